/// model.safetensors.index.json as the downloader needs it: which shard files to fetch.
struct HubWeightIndex: Decodable {
    var weightMap: [String: String]
    enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
}
