import Foundation
import Hashing
import NIOCore

/// The keys that protect one connection's frames after the handshake, one per direction:
///
///     session   = HMAC(K, "sextant-session-v1" || server nonce || client nonce)
///     toMaster  = HMAC(session, "to-master"),  toPeer = HMAC(session, "to-peer")
///
/// K is the role's key, so only the two parties of this handshake can compute them, and
/// fresh nonces make them new on every connection.
struct SessionKeys: Sendable {
    let toMaster: [UInt8]
    let toPeer: [UInt8]

    init(roleKey: [UInt8], serverNonce: Data, clientNonce: Data) {
        let session = Digest.hmacSHA256(key: roleKey, data: Data("sextant-session-v1".utf8) + serverNonce + clientNonce)
        toMaster = Digest.hmacSHA256(key: session, data: Array("to-master".utf8))
        toPeer = Digest.hmacSHA256(key: session, data: Array("to-peer".utf8))
    }
}

/// The frame size allowed on a connection: a few KiB until the handshake succeeds (the
/// hellos are small; a stranger cannot make us buffer megabytes), then sextant.network.maxFrameBytes.
/// @unchecked: confined to its connection's event loop (see `bytes`).
final class FrameLimit: @unchecked Sendable {
    /// Event-loop confined: read by the decoder, raised by the authenticator.
    private(set) var bytes: Int
    private(set) var authenticated = false
    let full: Int

    init(full: Int) {
        self.full = full
        self.bytes = min(full, WireFormat.maxHandshakeFrameBytes)
    }

    func raise() {
        authenticated = true
        bytes = full
    }
}

/// Per-frame integrity after the handshake: each frame is followed by
/// `HMAC-SHA256(direction key, sequence number (UInt64 big-endian) || frame)`, the sequence
/// counting that direction's frames from 0. An injected frame lacks the key; a replayed,
/// dropped or reordered one has the wrong sequence number; either closes the connection.
/// Sits between the framing (length prefix) and `MessageCodec`, so it sees whole frames.
/// @unchecked: `lock` guards the keys, the plain-frame allowances and the sequence numbers.
final class FrameAuthenticator: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let tagBytes = 32

    let limit: FrameLimit
    private let lock = NSLock()
    private var sendKey: HMACKey?
    private var receiveKey: HMACKey?
    private var plainWritesLeft = 0
    private var plainReadsLeft = 0
    private var pendingSendKey: HMACKey?
    private var pendingReceiveKey: HMACKey?
    private var sent: UInt64 = 0
    private var received: UInt64 = 0

    init(limit: FrameLimit) { self.limit = limit }

    /// From the next frames on, MACs are added and required: after `plainWrites` more frames
    /// written and `plainReads` more read as they are (the other side's last handshake frame).
    /// Nil keys (no secret, loopback only) just end the handshake's small frame limit.
    func start(send: [UInt8]?, receive: [UInt8]?, plainWrites: Int, plainReads: Int) {
        lock.lock(); defer { lock.unlock() }
        pendingSendKey = send.map(HMACKey.init)
        pendingReceiveKey = receive.map(HMACKey.init)
        plainWritesLeft = plainWrites
        plainReadsLeft = plainReads
        if plainWrites == 0 { sendKey = pendingSendKey }
        if plainReads == 0 {
            receiveKey = pendingReceiveKey
            limit.raise()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        lock.lock()
        let key = receiveKey
        if key == nil, plainReadsLeft > 0 {
            plainReadsLeft -= 1
            if plainReadsLeft == 0 {
                receiveKey = pendingReceiveKey
                limit.raise()
            }
        }
        let sequence = received
        if key != nil { received += 1 }
        lock.unlock()
        guard let key else { return context.fireChannelRead(data) }
        guard frame.readableBytes >= WireFormat.headerBytes + Self.tagBytes,
              let tag = frame.getBytes(at: frame.writerIndex - Self.tagBytes, length: Self.tagBytes) else {
            return context.fireErrorCaught(WireError.badMAC(sequence: sequence))
        }
        frame.moveWriterIndex(to: frame.writerIndex - Self.tagBytes)
        guard Digest.constantTimeEqual(tag, Self.tag(key: key, sequence: sequence, frame: frame)) else {
            return context.fireErrorCaught(WireError.badMAC(sequence: sequence))
        }
        context.fireChannelRead(wrapInboundOut(frame))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lock.lock()
        let key = sendKey
        if key == nil, plainWritesLeft > 0 {
            plainWritesLeft -= 1
            if plainWritesLeft == 0 { sendKey = pendingSendKey }
        }
        let sequence = sent
        if key != nil { sent += 1 }
        lock.unlock()
        guard let key else { return context.write(data, promise: promise) }
        var frame = unwrapOutboundIn(data)
        frame.writeBytes(Self.tag(key: key, sequence: sequence, frame: frame))
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    /// Hashes the frame where it lies in its buffer: no copy per frame.
    static func tag(key: HMACKey, sequence: UInt64, frame: ByteBuffer) -> [UInt8] {
        withUnsafeBytes(of: sequence.bigEndian) { number in
            frame.withUnsafeReadableBytes { bytes in key.authenticate(number, bytes) }
        }
    }
}
