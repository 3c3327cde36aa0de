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
    private var lastActivity = NIODeadline.now()

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
        timer = nil
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

    /// Notes activity now. One timer runs at a time and is moved only when it fires (to the
    /// last activity plus `seconds`): re-arming on every frame cost a cancel and a schedule each.
    private func arm(_ context: ChannelHandlerContext) {
        lastActivity = .now()
        if timer == nil { schedule(context, at: lastActivity + .interval(seconds)) }
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let seconds = self.seconds
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.timer = nil
            guard self.waiting == 0 else { return }  // armed again when the job's end is sent
            let due = self.lastActivity + .interval(seconds)
            if due > .now() { return self.schedule(context, at: due) }
            context.fireErrorCaught(WireError.idle(seconds: seconds))
        }
    }
}
