import Foundation

/// A JobSpec travels (client to master, master's history) with its inputs as one string of
/// lines, `uri TAB relativePath TAB size`, instead of an array of JSON objects: at 10^6 inputs
/// that is one string to decode, not three million keyed values, and about half the bytes.
/// Names with a tab or newline (never valid inputs: `InputNames` refuses control characters)
/// keep the array form; a decoder reads either.
extension JobSpec {
    enum CodingKeys: String, CodingKey {
        case jobID, inputs, inputLines, parameters, resume, partitions, partitionBytes, settings, pipe, selection, sky
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let inputs: [InputFile]
        if let lines = try container.decodeIfPresent(String.self, forKey: .inputLines) {
            inputs = try Self.inputs(fromLines: lines)
        } else {
            inputs = try container.decode([InputFile].self, forKey: .inputs)
        }
        self.init(jobID: try container.decode(String.self, forKey: .jobID), inputs: inputs,
                  parameters: try container.decode(ExtractParameters.self, forKey: .parameters),
                  resume: try container.decode(Bool.self, forKey: .resume),
                  partitions: try container.decodeIfPresent(Int.self, forKey: .partitions),
                  partitionBytes: try container.decodeIfPresent(Int64.self, forKey: .partitionBytes),
                  settings: try container.decode([String: String].self, forKey: .settings),
                  pipe: try container.decodeIfPresent(PipeJob.self, forKey: .pipe),
                  selection: try container.decodeIfPresent(String.self, forKey: .selection),
                  sky: try container.decodeIfPresent(SkyStage.self, forKey: .sky))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jobID, forKey: .jobID)
        if let lines = Self.lines(of: inputs) {
            try container.encode(lines, forKey: .inputLines)
        } else {
            try container.encode(inputs, forKey: .inputs)
        }
        try container.encode(parameters, forKey: .parameters)
        try container.encode(resume, forKey: .resume)
        try container.encodeIfPresent(partitions, forKey: .partitions)
        try container.encodeIfPresent(partitionBytes, forKey: .partitionBytes)
        try container.encode(settings, forKey: .settings)
        try container.encodeIfPresent(pipe, forKey: .pipe)
        try container.encodeIfPresent(selection, forKey: .selection)
        try container.encodeIfPresent(sky, forKey: .sky)
    }

    /// The line form, or nil when a name holds a tab or a newline.
    static func lines(of inputs: [InputFile]) -> String? {
        var text = ""
        text.reserveCapacity(inputs.reduce(0) { $0 + $1.uri.utf8.count + $1.relativePath.utf8.count + 12 })
        for input in inputs {
            for name in [input.uri, input.relativePath] where name.utf8.contains(where: { $0 == 9 || $0 == 10 }) {
                return nil
            }
            text += input.uri
            text += "\t"
            text += input.relativePath
            text += "\t"
            text += String(input.size)
            text += "\n"
        }
        return text
    }

    static func inputs(fromLines text: String) throws -> [InputFile] {
        var inputs: [InputFile] = []
        var utf8 = Substring(text).utf8[...]
        while !utf8.isEmpty {
            let end = utf8.firstIndex(of: 10) ?? utf8.endIndex
            let fields = utf8[utf8.startIndex..<end].split(separator: 9, omittingEmptySubsequences: false)
            guard fields.count == 3, let size = Int64(String(decoding: fields[2], as: UTF8.self)) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.inputLines],
                    debugDescription: "input \(inputs.count + 1): not 'uri TAB relativePath TAB size'"))
            }
            inputs.append(InputFile(uri: String(decoding: fields[0], as: UTF8.self),
                                    relativePath: String(decoding: fields[1], as: UTF8.self), size: size))
            utf8 = end == utf8.endIndex ? utf8[end...] : utf8[utf8.index(after: end)...]
        }
        return inputs
    }
}
