import Foundation

/// The names of a 10^6-input listing seen so far: open addressing over 64-bit FNV-1a hashes of
/// their bytes, a slot holding a hash and the caller's index of the first name with it. Names
/// are compared (by the caller) only when their hashes match. Swift's `Dictionary<String, _>`
/// hashes with SipHash, compares the key of every occupied slot it probes and releases every key
/// when it goes: three quarters of a dry run of 10^6 names.
struct NameTable {
    private var hashes: [UInt64]  // 0: empty
    private var indices: [Int32]
    private var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        hashes = Array(repeating: 0, count: size)
        indices = Array(repeating: 0, count: size)
    }

    /// Records `index` under `name` unless a name the same as it (by `isSame`, asked of the indices
    /// whose names hash alike) is there already; returns that one's index, or nil when added.
    mutating func insert<Name: StringProtocol>(_ name: Name, index: Int32, isSame: (Int32) -> Bool) -> Int32? {
        let hash = Self.hash(name)
        let mask = hashes.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while hashes[slot] != 0 {
            if hashes[slot] == hash, isSame(indices[slot]) { return indices[slot] }
            slot = (slot + 1) & mask
        }
        hashes[slot] = hash
        indices[slot] = index
        count += 1
        if count * 2 > hashes.count { grow() }
        return nil
    }

    private mutating func grow() {
        let (oldHashes, oldIndices) = (hashes, indices)
        hashes = Array(repeating: 0, count: oldHashes.count * 2)
        indices = Array(repeating: 0, count: oldHashes.count * 2)
        let mask = hashes.count - 1
        for (hash, index) in zip(oldHashes, oldIndices) where hash != 0 {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while hashes[slot] != 0 { slot = (slot + 1) & mask }
            hashes[slot] = hash
            indices[slot] = index
        }
    }

    /// FNV-1a of the UTF-8 bytes, then mixed (the low bits pick the slot); never 0. A name with
    /// other than ASCII is hashed in its NFC form: names Swift calls equal (`é` and `e` + U+0301)
    /// must hash alike.
    static func hash<Name: StringProtocol>(_ name: Name) -> UInt64 {
        if name.utf8.contains(where: { $0 >= 0x80 }) {
            return hash(bytes: String(name).precomposedStringWithCanonicalMapping.utf8)
        }
        return hash(bytes: name.utf8)
    }

    private static func hash<Bytes: Sequence<UInt8>>(bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 29
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 32
        return hash == 0 ? 1 : hash
    }
}
