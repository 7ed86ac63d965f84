// PhiKit: run Microsoft's Phi-4 models on the CPU. Importing PhiKit brings in the whole public API.
@_exported import PhiGeneration
@_exported import PhiModels
@_exported import PhiTokenizer
@_exported import PhiKernels
@_exported import PhiWeights
@_exported import PhiNN
@_exported import PhiTensor
@_exported import PhiMedia
