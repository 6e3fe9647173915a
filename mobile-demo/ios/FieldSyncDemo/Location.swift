// One fresh position from Core Location for a check-in, a photo or a check-out. GpsPolicy
// decides whether it is good enough. Not compiled on the Linux build machines.

import CoreLocation

@MainActor
final class Location: NSObject, CLLocationManagerDelegate {
    private let manager = CLLocationManager()
    private var waiting: [CheckedContinuation<CLLocation?, Never>] = []

    override init() {
        super.init()
        manager.delegate = self
        manager.desiredAccuracy = kCLLocationAccuracyNearestTenMeters
    }

    /// Asks for permission while the app is in use (Info.plist says why).
    func requestPermission() { manager.requestWhenInUseAuthorization() }

    /// The current position, or nil when the phone cannot tell.
    func current() async -> CLLocation? {
        await withCheckedContinuation { continuation in
            waiting.append(continuation)
            manager.requestLocation()
        }
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        let last = locations.last
        Task { @MainActor in self.finish(last) }
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didFailWithError error: Error) {
        Task { @MainActor in self.finish(nil) }
    }

    private func finish(_ location: CLLocation?) {
        let continuations = waiting
        waiting = []
        continuations.forEach { $0.resume(returning: location) }
    }
}
