import Foundation
import NIOCore

/// Closes an established connection that has said nothing for `seconds` (sextant.network.idleTimeout),
/// so abandoned or hostile clients cannot hold connection slots. A client waiting on a job is
/// not idle: the master owes it an answer, so the clock stops until the job's end is sent.
/// Executors heartbeat, so only a stuck one is caught here (sextant.network.timeout is sooner).
final class IdleTimeout: ChannelDuplexHandler {
    typealias InboundIn = Message
    typealias InboundOut = Message
    typealias OutboundIn = Message
    typealias OutboundOut = Message

    let seconds: TimeInterval
    private var timer: Scheduled<Void>?
    private var waiting = 0

    init(seconds: TimeInterval) { self.seconds = seconds }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .waitJob = unwrapInboundIn(data) { waiting += 1 }
        arm(context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .jobFinished, .requestFailed:
            if waiting > 0 { waiting -= 1; arm(context) }
        default:
            break
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let seconds = self.seconds
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .interval(seconds)) { [weak self] in
            guard let self, self.waiting == 0 else { return }
            context.fireErrorCaught(WireError.idle(seconds: seconds))
        }
    }
}
