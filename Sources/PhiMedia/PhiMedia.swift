/// PhiMedia: image and audio decoding and the Phi-4-multimodal preprocessing (crops, features).
public enum PhiMedia {}
