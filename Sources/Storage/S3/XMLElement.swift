import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small element tree from Foundation's XMLParser: enough to read S3's answers
/// (ListBucketResult, Error, InitiateMultipartUploadResult, ListMultipartUploadsResult).
final class S3XMLNode {
    let name: String
    var text = ""
    var children: [S3XMLNode] = []

    init(name: String) { self.name = name }

    /// The first child named `name`.
    func child(_ name: String) -> S3XMLNode? { children.first { $0.name == name } }

    /// All children named `name`.
    func children(_ name: String) -> [S3XMLNode] { children.filter { $0.name == name } }

    /// The text of the first child named `name`.
    func value(_ name: String) -> String? { child(name)?.text }

    /// Parses `data`; nil when it is not well-formed XML.
    static func parse(_ data: Data) -> S3XMLNode? {
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        guard parser.parse() else { return nil }
        return builder.root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: S3XMLNode?
        var stack: [S3XMLNode] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            let node = S3XMLNode(name: elementName)
            stack.last?.children.append(node)
            if root == nil { root = node }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?) {
            stack.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}

/// Escapes text for an XML element body.
func xmlEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
