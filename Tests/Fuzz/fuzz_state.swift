// libFuzzer entry for pvdd's state file loader (PvDCore.SavedState); built by
// scripts/fuzz against PvDWire and PvDCore compiled with coverage.
import PvDCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let violation = CoreSelfCheck.savedState(Array(UnsafeBufferPointer(start: data, count: size))) {
        fatalError(violation)
    }
    return 0
}
