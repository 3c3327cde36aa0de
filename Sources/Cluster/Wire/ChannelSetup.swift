import NIOCore
import NIOExtras

enum ChannelSetup {
    /// Framing, message codec, then the connection's own handler. Call on the channel's event loop.
    static func install(on channel: Channel, maxFrameBytes: Int, handler: ChannelHandler) throws {
        let decoder = ByteToMessageHandler(
            FrameDecoder(maxFrameBytes: maxFrameBytes),
            // Backstop: never buffer more than one maximal frame, whatever the decoder does.
            maximumBufferSize: maxFrameBytes + WireFormat.lengthPrefixBytes)
        try channel.pipeline.syncOperations.addHandlers([
            decoder,
            LengthFieldPrepender(lengthFieldBitLength: .thirtyTwoBits),
            MessageCodec(maxFrameBytes: maxFrameBytes),
            handler,
        ])
    }
}

extension TimeAmount {
    /// A TimeAmount from configuration seconds (which may be fractional).
    static func interval(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64((max(0, seconds) * 1e9).rounded()))
    }
}
