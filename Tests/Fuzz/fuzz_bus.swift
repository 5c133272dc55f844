// libFuzzer entry for the D-Bus message decoder; built by scripts/fuzz together with the
// BusWire sources (one module), so it can call the internal BusSelfCheck.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let violation = BusSelfCheck.busMessage(Array(UnsafeBufferPointer(start: data, count: size))) {
        fatalError(violation)
    }
    return 0
}
