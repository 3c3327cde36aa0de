import Foundation

/// A JobSpec travels (client to master, master's history) with its inputs as one string of
/// lines, `uri TAB relativePath TAB size`, instead of an array of JSON objects: at 10^6 inputs
/// that is one string to decode, not three million keyed values, and about half the bytes.
/// Names with a tab or newline (never valid inputs: `InputNames` refuses control characters)
/// keep the array form; a decoder reads either.
extension JobSpec {
    enum CodingKeys: String, CodingKey {
        case jobID, inputs, inputLines, parameters, resume, partitions, partitionBytes, settings, pipe, selection
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
                  selection: try container.decodeIfPresent(String.self, forKey: .selection))
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
    }

    /// The line form, or nil when a name holds a tab or a newline.
    static func lines(of inputs: [InputFile]) -> String? {
        lineBytes(of: inputs).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The inputs as bytes, `uri TAB relativePath TAB size` a line; nil when a name holds a tab
    /// or a newline (those keep the JSON array form).
    static func lineBytes(of inputs: [InputFile]) -> Data? {
        var bytes = Data()
        bytes.reserveCapacity(inputs.reduce(0) { $0 + $1.uri.utf8.count + $1.relativePath.utf8.count + 12 })
        for input in inputs {
            guard append(input.uri, to: &bytes), append(input.relativePath, to: &bytes) else { return nil }
            bytes.append(contentsOf: String(input.size).utf8)
            bytes.append(10)
        }
        return bytes
    }

    /// Appends `name` and a tab; false when the name holds a tab or a newline.
    private static func append(_ name: String, to bytes: inout Data) -> Bool {
        var name = name
        return name.withUTF8 { utf8 in
            guard !utf8.contains(where: { $0 == 9 || $0 == 10 }) else { return false }
            bytes.append(utf8)
            bytes.append(9)
            return true
        }
    }

    static func inputs(fromLines text: String) throws -> [InputFile] {
        var text = text
        return try text.withUTF8 { try inputs(fromLineBytes: UnsafeRawBufferPointer($0)) }
    }

    /// Parses the line form straight from its bytes: two strings an input, no JSON.
    static func inputs(fromLineBytes bytes: UnsafeRawBufferPointer) throws -> [InputFile] {
        var inputs: [InputFile] = []
        var start = 0
        let count = bytes.count
        while start < count {
            var end = start
            while end < count, bytes[end] != 10 { end += 1 }
            guard let input = input(in: UnsafeRawBufferPointer(rebasing: bytes[start..<end])) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.inputLines],
                    debugDescription: "input \(inputs.count + 1): not 'uri TAB relativePath TAB size'"))
            }
            inputs.append(input)
            start = end + 1
        }
        return inputs
    }

    private static func input(in line: UnsafeRawBufferPointer) -> InputFile? {
        guard let firstTab = line.firstIndex(of: 9),
              let secondTab = line[(firstTab + 1)...].firstIndex(of: 9) else { return nil }
        let sizeBytes = line[(secondTab + 1)...]
        guard !sizeBytes.isEmpty else { return nil }
        var size: Int64 = 0
        for byte in sizeBytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, over1) = size.multipliedReportingOverflow(by: 10)
            let (sum, over2) = times10.addingReportingOverflow(Int64(byte - 0x30))
            guard !over1, !over2 else { return nil }
            size = sum
        }
        return InputFile(uri: String(decoding: UnsafeRawBufferPointer(rebasing: line[..<firstTab]), as: UTF8.self),
                         relativePath: String(decoding: UnsafeRawBufferPointer(rebasing: line[(firstTab + 1)..<secondTab]),
                                              as: UTF8.self),
                         size: size)
    }
}
