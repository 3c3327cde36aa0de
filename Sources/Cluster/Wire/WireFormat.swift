import Foundation
import Hashing
import NIOCore

/// The frame layout, fixed for every protocol version so any two builds can at least
/// read each other's hello and say why they disagree:
///
///     length  UInt32 big-endian: bytes that follow (header + body)
///     magic   4 bytes "SXTN"
///     version UInt16 big-endian: the protocol version of the sender
///     type    UInt8: the message type
///     body    JSON (Codable)
///     mac     32 bytes after the handshake when authenticated (see FrameAuthenticator)
public enum WireFormat {
    public static let magic: [UInt8] = Array("SXTN".utf8)
    /// Bumped whenever a message changes shape. 3: launchTasks and taskResults (several tasks per frame).
    public static let protocolVersion: UInt16 = 3
    /// The largest frame before the handshake has succeeded: hellos are a few hundred bytes.
    public static let maxHandshakeFrameBytes = 4096
    public static let lengthPrefixBytes = 4
    public static let headerBytes = 7
}

/// Splits the byte stream into frames. Stateless: it peeks at the length prefix and waits
/// until the whole frame is in, so an oversized prefix is refused the moment it arrives,
/// not after the peer has made us buffer that many bytes (NIOExtras' LengthFieldBasedFrameDecoder
/// has no maximum of its own).
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let limit: FrameLimit

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
            return .needMoreData
        }
        guard length <= limit.bytes else {
            if !limit.authenticated && length <= limit.full {
                throw WireError.handshakeFrameTooLarge(Int(length), limit: limit.bytes)
            }
            throw WireError.frameTooLarge(Int(length), limit: limit.full)
        }
        guard length >= WireFormat.headerBytes else {
            throw WireError.malformed("a frame of \(length) bytes is shorter than the \(WireFormat.headerBytes)-byte header")
        }
        guard buffer.readableBytes >= WireFormat.lengthPrefixBytes + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: WireFormat.lengthPrefixBytes)
        let frame = buffer.readSlice(length: Int(length))!
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                             seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            let pending = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: pending)
            throw WireError.truncated(pendingBytes: pending)
        }
        return .needMoreData
    }
}

/// Why a connection's bytes could not be read as frames.
enum WireError: Error, CustomStringConvertible {
    case frameTooLarge(Int, limit: Int)
    case handshakeFrameTooLarge(Int, limit: Int)
    case badMAC(sequence: UInt64)
    case idle(seconds: TimeInterval)
    case malformed(String)
    case truncated(pendingBytes: Int)
    case badMagic([UInt8])
    case unknownType(UInt8)
    case versionMismatch(UInt16)
    case undecodableBody(String, String)

    var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            return "frame length \(length) exceeds sextant.network.maxFrameBytes (\(limit))"
        case .handshakeFrameTooLarge(let length, let limit):
            return "frame length \(length) exceeds the \(limit)-byte limit before authentication"
        case .badMAC(let sequence):
            return "frame \(sequence) after the handshake failed its integrity check (injected, replayed, reordered or corrupted)"
        case .idle(let seconds): return "idle for \(seconds) s (sextant.network.idleTimeout)"
        case .malformed(let why): return "malformed frame: \(why)"
        case .truncated(let pending): return "connection ended inside a frame (\(pending) bytes of it pending)"
        case .badMagic(let bytes): return "bad magic \(bytes.hexString) (not a sextant peer?)"
        case .unknownType(let type): return "unknown message type \(type)"
        case .versionMismatch(let version):
            return "frame of protocol version \(version), this side speaks \(WireFormat.protocolVersion)"
        case .undecodableBody(let type, let why): return "cannot decode the body of \(type): \(why)"
        }
    }
}
