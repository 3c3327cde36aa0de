import Foundation
import Hashing
import NIOCore

/// What the per-frame MAC costs (`sextant bench frame-mac`, scripts/bench/frame-mac): for each
/// frame size, nanoseconds per frame of `FrameAuthenticator.tag` (hashed in place), of the form it
/// replaced (sequence number and frame joined into a new array, copied again by
/// `Digest.hmacSHA256`), and of one SHA-256 pass over the frame (the floor), in one invocation.
public enum FrameMACBenchmark {
    public struct Row: Codable, Sendable {
        public var frameBytes: Int
        public var frames: Int
        public var inPlaceNs: Double
        public var copyingNs: Double
        public var sha256Ns: Double
    }

    /// Each size gets about `bytesPerSize` bytes of frames (at least 200 frames), best of `rounds`.
    public static func run(sizes: [Int], bytesPerSize: Int = 256 << 20, rounds: Int = 3) -> [Row] {
        let key = HMACKey(Digest.randomBytes(32)), rawKey = Digest.randomBytes(32)
        return sizes.map { size in
            var frame = ByteBufferAllocator().buffer(capacity: size)
            frame.writeBytes(Digest.randomBytes(size))
            let frames = max(200, bytesPerSize / max(1, size))
            func best(_ body: (UInt64) -> [UInt8]) -> Double {
                (0..<rounds).map { _ in
                    let start = DispatchTime.now().uptimeNanoseconds
                    var sink: UInt8 = 0
                    for sequence in 0..<UInt64(frames) { sink ^= body(sequence)[0] }
                    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(frames)
                    return sink == 0x5A ? elapsed : elapsed  // keeps the work observable
                }.min() ?? 0
            }
            let inPlace = best { FrameAuthenticator.tag(key: key, sequence: $0, frame: frame) }
            let copying = best { sequence in
                var message = withUnsafeBytes(of: sequence.bigEndian, Array.init)
                message.append(contentsOf: frame.readableBytesView)
                return Digest.hmacSHA256(key: rawKey, data: message)
            }
            let floor = best { _ in frame.withUnsafeReadableBytes { bytes in
                let hasher = SHA256Hasher()
                hasher.update(bytes.baseAddress!, count: bytes.count)
                return hasher.finalize()
            } }
            return Row(frameBytes: size, frames: frames, inPlaceNs: inPlace, copyingNs: copying, sha256Ns: floor)
        }
    }
}
