import PhiKernels
import PhiTensor

/// Token embedding table [vocab, dim] in its stored type; rows are converted to f32 on lookup.
public struct Embedding: @unchecked Sendable {
    public let table: Tensor
    public let count: Int
    public let dim: Int

    /// Whether the pages a lookup touched are given back afterwards: for quantized tables in a mapped file.
    /// Their only other reader, a tied output head, works from its own repacked copy; without this, each lookup
    /// would leave the file's large page-cache folio around the row mapped (about 0.8 MB per distinct token on
    /// Linux 6.x), adding hundreds of MB to the resident set over a long prompt. Dense tables stay: a tied dense
    /// head reads them every token.
    let releasesLookedUpPages: Bool

    public init(table: Tensor) {
        self.table = table
        count = table.shape[0]
        dim = table.shape[1]
        releasesLookedUpPages = table.isMapped && table.dtype.isQuantized
    }

    /// Writes the embeddings of `ids` (each already checked to be < count) into out: [ids.count, dim].
    public func lookup(_ ids: [Int], into out: UnsafeMutablePointer<Float>) {
        let rowBytes = table.rowBytes
        for (r, id) in ids.enumerated() {
            Convert.toF32(dtype: table.dtype, src: table.data + id * rowBytes, dst: out + r * dim, count: dim)
            if releasesLookedUpPages {
                // The 2 MiB-aligned span around the row (clamped to the table): what a page-cache folio maps.
                let span = 2 << 20, start = id * rowBytes / span * span
                table.releaseMappedPages(offset: start, count: min(table.byteCount, start + span) - start)
            }
        }
    }
}
