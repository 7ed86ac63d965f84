import CPhiKernels

/// Products with GGML block-quantized weights (every DType with `hasQuantizedProducts`) and the reference
/// (de)quantizers, all through the C type table. The C kernels are single-threaded; these wrappers quantize the
/// activations once and split output rows across threads.
public enum QuantKernels {
    public enum QuantError: Error, Equatable {
        /// The type has no product kernel, or `k` is not a positive multiple of its block size.
        case unsupported(type: DType, k: Int)
        /// `count` is not a multiple of the type's block size, or the type has no (de)quantizer.
        case badCount(type: DType, count: Int)
    }

    /// Rows per repacked panel; thread splits of repacked weights use multiples of it.
    public static let panelRows = 16

    /// Whether `matmul` supports weights of this type with rows of `k` values.
    public static func supports(type: DType, k: Int) -> Bool {
        phi_quant_check(type.id, Int64(k)) == 0
    }

    /// Bytes of one quantized activation row (0 when unsupported).
    public static func activationRowBytes(type: DType, k: Int) -> Int {
        Int(phi_quant_activation_row_bytes(type.id, Int64(k)))
    }

    /// y[t, n] = Σ_k x[t, k] · W[n, k]; W is [n, k] in GGML blocks (k/block · blockBytes bytes per row).
    /// x: [rows, k] with row stride ldx; y: [rows, n] with row stride ldy.
    public static func matmul(
        x: UnsafePointer<Float>, ldx: Int, rows T: Int, k K: Int,
        weight: UnsafeRawPointer, type: DType, n N: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, parallel: Parallel
    ) throws {
        try product(x: x, ldx: ldx, rows: T, k: K, weight: weight, type: type, n: N, y: y, ldy: ldy,
                    parallel: parallel, repacked: false)
    }

    /// `matmul` on weights laid out by `repack` (faster: the kernels read the interleaved panels directly).
    public static func matmulRepacked(
        x: UnsafePointer<Float>, ldx: Int, rows T: Int, k K: Int,
        weight: UnsafeRawPointer, type: DType, n N: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, parallel: Parallel
    ) throws {
        try product(x: x, ldx: ldx, rows: T, k: K, weight: weight, type: type, n: N, y: y, ldy: ldy,
                    parallel: parallel, repacked: true)
    }

    /// Bytes of the repacked form of an [n, k] weight.
    public static func repackedByteCount(type: DType, n: Int, k: Int) -> Int {
        Int(phi_quant_repacked_bytes(type.id, Int64(n), Int64(k)))
    }

    /// Rewrites an [n, k] GGML-layout weight into the 16-row interleaved layout, once at load time;
    /// `destination` holds `repackedByteCount` bytes (64-byte alignment helps but is not required).
    public static func repack(
        weight: UnsafeRawPointer, type: DType, n N: Int, k K: Int, into destination: UnsafeMutableRawPointer,
        parallel: Parallel = Parallel(threads: 1)
    ) throws {
        try repack(weight: weight, type: type, n: N, k: K, into: destination, rows: 0..<max(N, 0), parallel: parallel)
    }

    /// `repack` for the panels holding `rows` only (its bounds multiples of `panelRows`, or N at the end), so
    /// a large weight can be repacked piece by piece.
    public static func repack(
        weight: UnsafeRawPointer, type: DType, n N: Int, k K: Int, into destination: UnsafeMutableRawPointer,
        rows: Range<Int>, parallel: Parallel
    ) throws {
        guard supports(type: type, k: K), N >= 0, rows.lowerBound >= 0, rows.upperBound <= N,
              rows.lowerBound % panelRows == 0, rows.upperBound % panelRows == 0 || rows.upperBound == N else {
            throw QuantError.unsupported(type: type, k: K)
        }
        let dst = UncheckedPointer(destination), base = rows.lowerBound
        parallel.forRanges(rows.count, granularity: panelRows) { n0, n1 in
            phi_quant_repack(type.id, weight, Int64(N), Int64(K), dst.pointer, Int64(base + n0), Int64(base + n1))
        }
    }

    /// dst[0..<count] = dequantized blocks (every DType).
    public static func dequantize(type: DType, source: UnsafeRawPointer, destination: UnsafeMutablePointer<Float>,
                                  count: Int) throws {
        let qk = type.blockElements
        guard qk > 0, count >= 0, count % qk == 0 else { throw QuantError.badCount(type: type, count: count) }
        phi_dequantize_ref(type.id, source, destination, Int64(count))
    }

    /// GGML's reference quantizer (no importance matrix) for count values; destination holds
    /// count / blockElements · blockBytes bytes.
    public static func quantize(type: DType, source: UnsafePointer<Float>, destination: UnsafeMutableRawPointer,
                                count: Int) throws {
        guard phi_quantize_ref(type.id, source, destination, Int64(count)) == 0 else {
            throw QuantError.badCount(type: type, count: count)
        }
    }

    // MARK: -

    private static func product(
        x: UnsafePointer<Float>, ldx: Int, rows T: Int, k K: Int, weight: UnsafeRawPointer, type: DType, n N: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, parallel: Parallel, repacked: Bool
    ) throws {
        let id = type.id
        let rowBytes = activationRowBytes(type: type, k: K)
        guard rowBytes > 0, T >= 0, N >= 0, ldx >= K, ldy >= N || T <= 1 else {
            throw QuantError.unsupported(type: type, k: K)
        }
        guard T > 0, N > 0 else { return }
        let xq = UnsafeMutableRawPointer.allocate(byteCount: T * rowBytes, alignment: 64)
        defer { xq.deallocate() }
        let xqp = UncheckedPointer(xq), xp = UncheckedPointer(UnsafeMutableRawPointer(mutating: x))
        // Quantize once, shared by every thread; big batches split the rows.
        parallel.forRanges(T, granularity: max(1, 16384 / K)) { t0, t1 in
            phi_quantize_activations(id, xp.pointer.assumingMemoryBound(to: Float.self) + t0 * ldx, Int64(ldx),
                                     Int64(t1 - t0), Int64(K), xqp.pointer + t0 * rowBytes, Int64(rowBytes))
        }
        let yp = UncheckedPointer(UnsafeMutableRawPointer(y))
        if repacked {
            // Chunks taken in turn rather than fixed halves (see phi_gemm_q_repacked_chunks).
            let threads = min(parallel.threads, (N + panelRows - 1) / panelRows)
            let counter = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
            defer { counter.deallocate() }
            counter.initialize(to: 0)
            let cp = UncheckedPointer(UnsafeMutableRawPointer(counter))
            parallel.forRanges(threads) { _, _ in
                phi_gemm_q_repacked_chunks(id, xqp.pointer, Int64(rowBytes), Int64(T), Int64(K), weight,
                                           yp.pointer.assumingMemoryBound(to: Float.self), Int64(ldy), Int64(N),
                                           Int64(threads), cp.pointer.assumingMemoryBound(to: Int64.self))
            }
            return
        }
        parallel.forRanges(N, granularity: panelRows) { n0, n1 in
            phi_gemm_q(id, xqp.pointer, Int64(rowBytes), Int64(T), Int64(K), weight,
                       yp.pointer.assumingMemoryBound(to: Float.self), Int64(ldy), Int64(n0), Int64(n1))
        }
    }
}

/// A raw pointer captured by the closures `Parallel` runs on several threads (each thread touches its own part).
struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ p: UnsafeMutableRawPointer) { pointer = p }
}
