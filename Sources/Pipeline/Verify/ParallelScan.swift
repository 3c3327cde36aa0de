import Foundation
import Engine

/// Runs `body` for indices 0..<count on up to `parallelism` threads (each takes the next index,
/// so slow items do not hold up a stride), and returns the non-nil results by index. The first
/// error stops the threads taking more work and is rethrown once all have stopped. What
/// `verify` and `--reproduce`'s input check share.
enum ParallelScan {
    static func results<T>(count: Int, parallelism: Int,
                           _ body: @Sendable (Int) throws -> T?) throws -> [Int: T] {
        let state = Locked(State<T>())
        DispatchQueue.concurrentPerform(iterations: min(max(1, parallelism), max(count, 1))) { _ in
            while let index = state.mutate({ $0.take(below: count) }) {
                do {
                    if let result = try body(index) { state.update { $0.results[index] = result } }
                } catch {
                    state.update { $0.fail(error) }
                    return
                }
            }
        }
        let final = state.value
        if let thrown = final.thrown { throw thrown }
        return final.results
    }

    private struct State<T> {
        var next = 0
        var results: [Int: T] = [:]
        var thrown: Error?

        mutating func take(below limit: Int) -> Int? {
            guard thrown == nil, next < limit else { return nil }
            defer { next += 1 }
            return next
        }

        mutating func fail(_ error: Error) { if thrown == nil { thrown = error } }
    }
}
