import Foundation
import Hashing
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP socket that speaks the wire format as documented, written independently of
/// the Cluster module's codec: the attacker's and the spec's view of the protocol.
final class RawPeer {
    private let fd: Int32

    /// Connects to `host:port` (127.0.0.1 by default), from `source` when given (any 127.x address is loopback).
    init(port: Int, host: String = "127.0.0.1", source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = Self.loopback(port: 0)
            local.sin_addr.s_addr = inet_addr(source)
            _ = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var address = Self.loopback(port: port)
        address.sin_addr.s_addr = inet_addr(host)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    init(fd: Int32) { self.fd = fd }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Half-closes: the master sees end of stream.
    func finishWriting() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads exactly `count` bytes; nil on end of stream, error or timeout.
    func read(_ count: Int, timeout: TimeInterval = 5) -> [UInt8]? {
        setTimeout(timeout)
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: count)
        while out.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count - out.count, 0) }
            if n <= 0 { return nil }
            out += chunk.prefix(n)
        }
        return out
    }

    /// One frame: (version, type, body); nil when the connection ended or stalled.
    func readFrame(timeout: TimeInterval = 5) -> (version: UInt16, type: UInt8, body: [UInt8])? {
        guard let prefix = read(4, timeout: timeout) else { return nil }
        let length = prefix.reduce(0) { $0 << 8 | Int($1) }
        guard length >= 7, let frame = read(length, timeout: timeout) else { return nil }
        guard Array(frame[0..<4]) == Array("SXTN".utf8) else { return nil }
        return (UInt16(frame[4]) << 8 | UInt16(frame[5]), frame[6], Array(frame[7...]))
    }

    /// True when the master closes the connection within `timeout` (any frames before are skipped).
    func waitForClose(timeout: TimeInterval = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            setTimeout(max(0.01, deadline.timeIntervalSinceNow))
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return false }
                return true  // reset
            }
        }
        return false
    }

    private func setTimeout(_ seconds: TimeInterval) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A frame as the spec describes it: length, "SXTN", version, type, body.
    static func frame(type: UInt8, version: UInt16 = 3, body: [UInt8]) -> [UInt8] {
        let length = UInt32(7 + body.count)
        return withUnsafeBytes(of: length.bigEndian, Array.init) + Array("SXTN".utf8)
            + withUnsafeBytes(of: version.bigEndian, Array.init) + [type] + body
    }

    static func json(_ object: [String: Any]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object))
    }

    static func decodeJSON(_ body: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

/// A listening socket on 127.0.0.1 that plays a (fake) master.
final class RawListener {
    private let fd: Int32
    let port: Int

    init(host: String = "127.0.0.1") {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = RawPeer.loopback(port: 0)
        address.sin_addr.s_addr = inet_addr(host)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 4)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: bound.sin_port))
    }

    deinit { close(fd) }

    func accept() -> RawPeer { RawPeer(fd: acceptDescriptor()) }

    /// The next connection's descriptor, for callers that own it.
    func acceptDescriptor() -> Int32 { Glibc.accept(fd, nil, nil) }
}

/// The spec's view of an authenticated connection, computed without the Cluster module:
/// the role's key from the secret, the session keys from both nonces, and a MAC after every frame.
struct RawSession {
    let sendKey: [UInt8]
    let receiveKey: [UInt8]
    private(set) var sent: UInt64 = 0
    private(set) var received: UInt64 = 0

    static func roleKey(secret: String, role: String) -> [UInt8] {
        Digest.hmacSHA256(key: Array(secret.utf8), data: Array("sextant-credential-v1\n\(role)\n".utf8))
    }

    /// As a peer (client or executor) that sent `clientNonce` after the master's `serverNonce`.
    init(roleKey: [UInt8], serverNonce: Data, clientNonce: Data) {
        let session = Digest.hmacSHA256(key: roleKey, data: Data("sextant-session-v1".utf8) + serverNonce + clientNonce)
        sendKey = Digest.hmacSHA256(key: session, data: Array("to-master".utf8))
        receiveKey = Digest.hmacSHA256(key: session, data: Array("to-peer".utf8))
    }

    /// `frame` (length prefix first, as `RawPeer.frame` makes it) with its MAC appended and the length fixed.
    mutating func seal(_ frame: [UInt8]) -> [UInt8] {
        let body = Array(frame.dropFirst(4))
        let tag = Self.tag(key: sendKey, sequence: sent, body: body)
        sent += 1
        let length = UInt32(body.count + tag.count)
        return withUnsafeBytes(of: length.bigEndian, Array.init) + body + tag
    }

    /// The frame the master sent, if its MAC is right for the next sequence number; the body without it.
    mutating func open(_ frame: (version: UInt16, type: UInt8, body: [UInt8])) -> [UInt8]? {
        guard frame.body.count >= 32 else { return nil }
        let body = Array(frame.body.dropLast(32))
        let header = Array("SXTN".utf8) + withUnsafeBytes(of: frame.version.bigEndian, Array.init) + [frame.type]
        guard Array(frame.body.suffix(32)) == Self.tag(key: receiveKey, sequence: received, body: header + body) else {
            return nil
        }
        received += 1
        return body
    }

    static func tag(key: [UInt8], sequence: UInt64, body: [UInt8]) -> [UInt8] {
        Digest.hmacSHA256(key: key, data: withUnsafeBytes(of: sequence.bigEndian, Array.init) + body)
    }
}
