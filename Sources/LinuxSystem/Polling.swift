import Glibc

/// Checks `condition` every 50 ms for at most `seconds`: whether it came
/// true. For the few places that can only look again (another program's
/// socket file, a process gone); the daemon itself never polls.
public func pollUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    for _ in 0..<max(1, Int(seconds / 0.05)) {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
