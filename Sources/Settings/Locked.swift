import Foundation

/// A value shared between threads, read and changed only under its lock (`@unchecked Sendable`
/// is true by construction: every access takes the lock). The one such box of the code base:
/// the libraries use it, and TestSupport re-exports it for the tests.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    public init(_ value: Value) { stored = value }

    public var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }

    public func update(_ body: (inout Value) -> Void) {
        lock.withLock { body(&stored) }
    }

    @discardableResult
    public func mutate<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&stored) }
    }
}
