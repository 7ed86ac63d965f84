import PhiJSON

/// The part of generation_config.json PhiKit reads (sampling defaults are the caller's, not the file's).
struct GenerationConfigFile: Decodable {
    var eosTokenId: OneOrMany<Int>?

    enum CodingKeys: String, CodingKey {
        case eosTokenId = "eos_token_id"
    }
}
