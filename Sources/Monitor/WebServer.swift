import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The monitor's HTTP/1.1 server: every request goes to the `Router`, one response per
/// connection (`Connection: close`), which is plenty for a status page and a scraper.
public final class WebServer: @unchecked Sendable {
    private let router: Router
    private let logger: Logger
    private let group: EventLoopGroup
    private var channel: Channel?

    public init(monitor: Monitor, logger: Logger = Logger(label: "sextant.monitor"),
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.router = Router(monitor: monitor)
        self.logger = logger
        self.group = group
    }

    /// Binds `host:port` (0 picks a free port) and returns the URL it serves.
    @discardableResult
    public func start(host: String, port: Int) throws -> String {
        let router = self.router
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(HTTPHandler(router: router))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            throw WebServerError.cannotBind(host: host, port: port, reason: "\(error)")
        }
        return url!
    }

    /// The URL actually served, e.g. http://127.0.0.1:8080/.
    public var url: String? {
        guard let address = channel?.localAddress, let port = address.port else { return nil }
        let host = address.ipAddress ?? "127.0.0.1"
        let shown = host == "0.0.0.0" || host == "::" ? ProcessInfo.processInfo.hostName : host
        return "http://\(shown.contains(":") ? "[\(shown)]" : shown):\(port)/"
    }

    public var port: Int? { channel?.localAddress?.port }

    public func stop() {
        try? channel?.close().wait()
        channel = nil
    }
}

public enum WebServerError: Error, CustomStringConvertible {
    case cannotBind(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .cannotBind(let host, let port, let reason):
            return "cannot serve the web UI on \(host):\(port) (sextant.ui.host, sextant.ui.port; 0 picks a free port): \(reason)"
        }
    }
}

/// Collects one request and answers it from the router.
private final class HTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: Router
    private var head: HTTPRequestHead?

    init(router: Router) { self.router = router }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break  // forms and API calls carry nothing the routes read
        case .end:
            guard let head else { return }
            self.head = nil
            let method = head.method == .HEAD ? "GET" : head.method.rawValue
            let request = WebRequest(method: method, uri: head.uri, origin: head.headers.first(name: "Origin"),
                                     host: head.headers.first(name: "Host"))
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let router = self.router
            let eventLoop = context.eventLoop
            // Off the event loop: a route may block (a cancel talks to the master over its own port).
            DispatchQueue.global().async {
                let response = router.respond(to: request)
                eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.write(response, isHead: head.method == .HEAD, version: head.version, context: context)
                }
            }
        }
    }

    private func write(_ response: WebResponse, isHead: Bool, version: HTTPVersion, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        if let location = response.location { headers.add(name: "Location", value: location) }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status),
                                    headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !isHead {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
