import Foundation

/// One column as a SExtractor .param file names it: `FLUX_APER`, `FLUX_APER(3)`, `VIGNET(35,35)`.
public struct ColumnRequest: Codable, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    /// The sizes in parentheses, if any.
    public var sizes: [Int]

    public init(name: String, sizes: [Int] = []) {
        self.name = name.uppercased()
        self.sizes = sizes
    }

    /// Parses `NAME` or `NAME(n[,m])`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let open = trimmed.firstIndex(of: "(") else {
            self.init(name: trimmed)
            try Self.checkName(name, text)
            return
        }
        guard trimmed.hasSuffix(")") else {
            throw ExtractionError.invalidParameter("column \"\(text)\": a size needs a closing parenthesis, as FLUX_APER(3)")
        }
        let inside = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
        let sizes = try inside.split(separator: ",").map { field -> Int in
            guard let size = Int(field.trimmingCharacters(in: .whitespaces)), size > 0, size <= 4096 else {
                throw ExtractionError.invalidParameter("column \"\(text)\": \"\(field)\" is not a size from 1 to 4096")
            }
            return size
        }
        self.init(name: String(trimmed[..<open]), sizes: sizes)
        try Self.checkName(name, text)
    }

    private static func checkName(_ name: String, _ text: String) throws {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
        guard !name.isEmpty, name.allSatisfy(allowed.contains) else {
            throw ExtractionError.invalidParameter("column \"\(text)\" is not a column name")
        }
    }

    public var description: String {
        sizes.isEmpty ? name : "\(name)(\(sizes.map(String.init).joined(separator: ",")))"
    }
}

/// Which catalog columns to write, and so which measurements to make.
/// Nil `requests` means the default columns (Sextant's historical set, plus the sky
/// columns when the image has a celestial WCS).
public struct ColumnSelection: Codable, Hashable, Sendable {
    public var requests: [ColumnRequest]?

    public static let standard = ColumnSelection(requests: nil)

    public init(requests: [ColumnRequest]?) {
        self.requests = requests
    }

    /// `--columns A,B(3),C`: commas outside parentheses separate columns.
    public init(list: String) throws {
        var names: [String] = [], current = "", depth = 0
        for character in list {
            if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
            if character == ",", depth == 0 { names.append(current); current = "" } else { current.append(character) }
        }
        names.append(current)
        try self.init(names: names.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
    }

    /// The text of a SExtractor .param file: one column per line, `#` starts a comment.
    public init(paramText text: String, source: String = ".param") throws {
        var names: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            // SExtractor reads the first word; a trailing description is allowed.
            if let word = content.split(whereSeparator: { $0 == " " || $0 == "\t" }).first { names.append(String(word)) }
        }
        do {
            try self.init(names: names)
        } catch let ExtractionError.invalidParameter(message) {
            throw ExtractionError.invalidParameter("\(source): \(message)")
        }
    }

    public static func load(paramFile url: URL) throws -> ColumnSelection {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ExtractionError.invalidParameter("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try ColumnSelection(paramText: text, source: url.path)
    }

    private init(names: [String]) throws {
        guard !names.isEmpty else { throw ExtractionError.invalidParameter("no columns were named") }
        let requests = try names.map(ColumnRequest.init(parsing:))
        var seen = Set<String>()
        for request in requests where !seen.insert(request.name).inserted {
            throw ExtractionError.invalidParameter("column \(request.name) is named twice")
        }
        self.init(requests: requests)
        try validate(apertureCount: nil)
    }

    /// Throws when a name is unknown (listing the valid ones) or a size does not fit.
    /// `apertureCount` nil skips the checks that depend on the apertures.
    public func validate(apertureCount: Int?) throws {
        _ = try resolve(apertureCount: apertureCount ?? 4096, hasSky: true)
    }

    /// The measurements the selected columns need.
    public func plan(apertureCount: Int) throws -> MeasurementPlan {
        try resolve(apertureCount: apertureCount, hasSky: true).reduce(into: MeasurementPlan.none) { plan, column in
            plan.formUnion(column.needs)
        }
    }

    /// True when a sky column is among those selected (always for the default selection).
    public var wantsSky: Bool {
        guard let requests else { return true }
        return requests.contains { ColumnDefinition.skyNames.contains($0.name) }
    }

    func resolve(apertureCount: Int, hasSky: Bool) throws -> [ResolvedColumn] {
        let requests = self.requests ?? ColumnDefinition.defaultNames.map { ColumnRequest(name: $0) }
            + (hasSky ? ColumnDefinition.skyNames.map { ColumnRequest(name: $0) } : [])
        return try requests.compactMap { request in
            guard let definition = ColumnDefinition.byName[request.name] else {
                throw ExtractionError.invalidParameter(
                    "unknown column \(request.name); valid columns: \(ColumnDefinition.all.map(\.usage).joined(separator: ", "))")
            }
            if !hasSky, ColumnDefinition.skyNames.contains(request.name) { return nil }
            return try definition.resolve(request, apertureCount: apertureCount)
        }
    }
}

/// What the extractor measures beyond detection. Each later step needs the earlier ones,
/// as in sep's recipe: FLUX_AUTO needs the Kron radius, FLUX_RADIUS normalizes by
/// FLUX_AUTO, and the windowed positions start from FLUX_RADIUS.
public struct MeasurementPlan: Hashable, Sendable {
    public var apertures = false
    /// KRON_RADIUS and FLUX_AUTO.
    public var auto = false
    public var fluxRadius = false
    public var windowed = false
    /// The background map at each object (BACKGROUND).
    public var localBackground = false
    /// SExtractor's FLAGS (bit 1 also needs the segmentation map when AUTO is measured).
    public var sextractorFlags = false
    /// FLUX_WIN and friends (measured after the windowed position).
    public var windowedFlux = false
    /// IMAFLAGS_ISO and NIMAFLAGS_ISO.
    public var imageFlags = false
    /// FWHM_IMAGE for every object (else only for `FWHMEstimate.isSeeingStar` objects).
    public var fwhm = false
    /// VIGNET's size, width x height.
    public var vignet: (width: Int, height: Int)? { vignetSize.map { ($0[0], $0[1]) } }
    var vignetSize: [Int]?

    public static let none = MeasurementPlan()
    /// Everything: the historical catalog (sep's full recipe).
    public static let all = MeasurementPlan(apertures: true, auto: true, fluxRadius: true, windowed: true)

    public init(apertures: Bool = false, auto: Bool = false, fluxRadius: Bool = false, windowed: Bool = false,
                localBackground: Bool = false, sextractorFlags: Bool = false, windowedFlux: Bool = false,
                imageFlags: Bool = false, fwhm: Bool = false) {
        self.apertures = apertures
        self.auto = auto || fluxRadius || windowed || windowedFlux
        self.fluxRadius = fluxRadius || windowed || windowedFlux
        self.windowed = windowed || windowedFlux
        self.localBackground = localBackground
        self.sextractorFlags = sextractorFlags
        self.windowedFlux = windowedFlux
        self.imageFlags = imageFlags
        self.fwhm = fwhm
    }

    mutating func formUnion(_ other: MeasurementPlan) {
        self = MeasurementPlan(apertures: apertures || other.apertures, auto: auto || other.auto,
                               fluxRadius: fluxRadius || other.fluxRadius, windowed: windowed || other.windowed,
                               localBackground: localBackground || other.localBackground,
                               sextractorFlags: sextractorFlags || other.sextractorFlags,
                               windowedFlux: windowedFlux || other.windowedFlux, imageFlags: imageFlags || other.imageFlags,
                               fwhm: fwhm || other.fwhm)
        vignetSize = other.vignetSize ?? vignetSize
    }
}
