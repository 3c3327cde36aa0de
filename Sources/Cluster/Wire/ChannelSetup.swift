import Foundation
import NIOCore
import NIOExtras

enum ChannelSetup {
    /// Framing, per-frame MACs, message codec, then the connection's own handler. Call on the
    /// channel's event loop. Handlers find the authenticator with `authenticator(of:)`.
    @discardableResult
    static func install(on channel: Channel, maxFrameBytes: Int, idleTimeout: TimeInterval? = nil,
                        handler: ChannelHandler) throws -> FrameAuthenticator {
        let limit = FrameLimit(full: maxFrameBytes)
        let authenticator = FrameAuthenticator(limit: limit)
        let decoder = ByteToMessageHandler(
            FrameDecoder(limit: limit),
            // Backstop: never buffer more than one maximal frame, whatever the decoder does.
            maximumBufferSize: maxFrameBytes + WireFormat.lengthPrefixBytes)
        try channel.pipeline.syncOperations.addHandlers([
            decoder,
            LengthFieldPrepender(lengthFieldBitLength: .thirtyTwoBits),
            authenticator,
            MessageCodec(maxFrameBytes: maxFrameBytes),
        ])
        if let idleTimeout { try channel.pipeline.syncOperations.addHandler(IdleTimeout(seconds: idleTimeout)) }
        try channel.pipeline.syncOperations.addHandler(handler)
        return authenticator
    }

    static func authenticator(of channel: Channel) -> FrameAuthenticator? {
        try? channel.pipeline.syncOperations.handler(type: FrameAuthenticator.self)
    }
}

extension TimeAmount {
    /// A TimeAmount from configuration seconds (which may be fractional).
    static func interval(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64((max(0, seconds) * 1e9).rounded()))
    }
}
