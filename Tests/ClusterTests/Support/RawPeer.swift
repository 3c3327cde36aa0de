import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP socket that speaks the wire format as documented, written independently of
/// the Cluster module's codec: the attacker's and the spec's view of the protocol.
final class RawPeer {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: port)
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
    static func frame(type: UInt8, version: UInt16 = 1, body: [UInt8]) -> [UInt8] {
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

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = RawPeer.loopback(port: 0)
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
