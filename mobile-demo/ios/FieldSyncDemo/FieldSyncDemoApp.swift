// The FieldSync sample app for iOS: a rep's orders and a supervisor's store audit.
// Build it in Xcode (see ../../README-platforms.md); not compiled on the Linux build machines.

import SwiftUI

@main
struct FieldSyncDemoApp: App {
    @Environment(\.scenePhase) private var scenePhase
    @StateObject private var model = AppModel()

    init() {
        // BGTaskScheduler wants its handlers before the app finishes launching.
        BackgroundSync.register()
    }

    var body: some Scene {
        WindowGroup {
            ContentView().environmentObject(model)
        }
        .onChange(of: scenePhase) { phase in
            switch phase {
            case .active:
                Task { try? await PhoneAccess.shared.foreground() }
            case .background:
                Task { await PhoneAccess.shared.background() }
                BackgroundSync.scheduleDocuments()
            default:
                break
            }
        }
    }
}
