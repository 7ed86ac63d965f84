import CPhiKernels

/// A pointer that one thread publishes once and other threads read without locks (acquire/release).
public final class PublishedPointer: @unchecked Sendable {
    private let slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    public init() {
        slot = .allocate(capacity: 1)
        slot.initialize(to: nil)
    }

    deinit { slot.deallocate() }

    /// nil until `publish`; after it, the published pointer and everything written before publishing.
    public var value: UnsafeMutableRawPointer? { phi_atomic_load_pointer(slot) }

    public func publish(_ pointer: UnsafeMutableRawPointer) { phi_atomic_store_pointer(slot, pointer) }
}
