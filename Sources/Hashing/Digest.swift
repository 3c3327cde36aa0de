import COpenSSL
import Foundation

/// SHA-256 and HMAC-SHA256 from the system OpenSSL: used by the S3 signer (SigV4),
/// catalog checksums and the cluster's challenge-response authentication.
public enum Digest {
    /// SHA-256 of `data`.
    public static func sha256(_ data: some DataProtocol) -> [UInt8] {
        let hasher = SHA256Hasher()
        hasher.update(data)
        return hasher.finalize()
    }

    /// HMAC-SHA256 of `data` under `key`.
    public static func hmacSHA256(key: some DataProtocol, data: some DataProtocol) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let keyBytes = Array(key), dataBytes = Array(data)
        keyBytes.withUnsafeBufferPointer { k in
            dataBytes.withUnsafeBufferPointer { d in
                _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), d.baseAddress, d.count, &out, &length)
            }
        }
        return Array(out.prefix(Int(length)))
    }

    /// Cryptographically random bytes (challenges, nonces).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "OpenSSL RAND_bytes failed")
        return out
    }

    /// Compares two MACs in time independent of where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in
            CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0
        } }
    }
}

/// Incremental SHA-256 for streams too large to hold at once (catalog checksums, multipart parts).
/// OpenSSL's EVP interface (the SHA256_* calls are deprecated since OpenSSL 3).
public final class SHA256Hasher {
    private let context: OpaquePointer

    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ data: some DataProtocol) {
        // Contiguous bytes (Data, arrays) are hashed in place: a 12 MB frame is not copied first.
        for region in data.regions {
            let hashed: Void? = region.withContiguousStorageIfAvailable {
                _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count)
            }
            if hashed == nil {
                let bytes = Array(region)
                bytes.withUnsafeBufferPointer { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Hashes `count` bytes at `pointer` (a buffer being read into, a mapped file).
    public func update(_ pointer: UnsafeRawPointer, count: Int) {
        _ = EVP_DigestUpdate(context, pointer, count)
    }

    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        return Array(out.prefix(Int(length)))
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal, as SigV4 and checksums want it.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var chars: [UInt8] = []
        for byte in self {
            chars.append(digits[Int(byte >> 4)])
            chars.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: chars, as: UTF8.self)
    }
}

/// HMAC-SHA256 under one key over any number of buffers, hashed in place: the cluster's
/// per-frame MAC, where `Digest.hmacSHA256` would copy each frame twice (joined to its sequence
/// number, then again into an array). The key's pads are made once, at init.
public struct HMACKey: Sendable {
    private let innerPad: [UInt8]
    private let outerPad: [UInt8]

    public init(_ key: [UInt8]) {
        // RFC 2104: a key longer than SHA-256's 64-byte block is hashed first, a shorter one zero-padded.
        var block = key.count > 64 ? Digest.sha256(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        innerPad = block.map { $0 ^ 0x36 }
        outerPad = block.map { $0 ^ 0x5C }
    }

    /// The MAC of the concatenation of `parts`.
    public func authenticate(_ parts: UnsafeRawBufferPointer...) -> [UInt8] {
        let inner = SHA256Hasher()
        inner.update(innerPad)
        for part in parts where part.count > 0 { inner.update(part.baseAddress!, count: part.count) }
        let outer = SHA256Hasher()
        outer.update(outerPad)
        outer.update(inner.finalize())
        return outer.finalize()
    }
}
