// The one screen: sign-in, then the rep's orders or the supervisor's audit. Every FieldSync call
// goes through PhoneAccess (an actor) or a detached task: never on the main actor.
// Not compiled on the Linux build machines.

import CoreLocation
import SwiftUI
import UIKit

@MainActor
final class AppModel: ObservableObject {
    @Published var role: Role?
    @Published var opening = true
    @Published var status = ""
    @Published var message: String?
    @Published var stores: [RetailStore] = []
    @Published var products: [Product] = []
    @Published var orders: [OrderSummary] = []
    @Published var template: Template?
    @Published var inspectionId: String?
    @Published var unanswered: [String] = []
    @Published var score: ScoreReport?
    let location = Location()

    init() {
        run {
            if try await PhoneAccess.shared.isSignedIn() { try await self.afterSignIn() } else { self.opening = false }
        }
    }

    func signIn(tenant: String, username: String, password: String) {
        run {
            _ = try await PhoneAccess.shared.signIn(tenant: tenant, username: username, password: password,
                                                    deviceName: UIDevice.current.name)
            let phone = try await PhoneAccess.shared.phone()
            _ = try await Task.detached { try phone.syncDocumentsNow() }.value
            try await self.afterSignIn()
        }
    }

    func takeOrder(storeId: String, quantities: [String: Int64]) {
        run {
            let phone = try await PhoneAccess.shared.phone()
            let order = try await Task.detached { try RepOrders(phone: phone).takeOrder(storeId: storeId, quantities: quantities) }.value
            self.message = "order for \(Self.money(order.totalCents)) saved"
            try await self.refresh()
        }
    }

    func checkIn(storeId: String) {
        run {
            guard let template = self.template else { return }
            let here = await self.location.current()
            let phone = try await PhoneAccess.shared.phone()
            self.inspectionId = try await Task.detached {
                try SupervisorAudit(phone: phone).checkIn(storeId: storeId, templateId: template.id, at: here)
            }.value
            self.score = nil
            try await self.refresh()
        }
    }

    func answer(itemId: String, value: AnswerValue) {
        run {
            guard let id = self.inspectionId else { return }
            let phone = try await PhoneAccess.shared.phone()
            try await Task.detached { try SupervisorAudit(phone: phone).answer(id, itemId: itemId, value: value) }.value
            try await self.refresh()
        }
    }

    func addPhoto(itemId: String, data: Data) {
        run {
            guard let id = self.inspectionId else { return }
            let here = await self.location.current()
            let phone = try await PhoneAccess.shared.phone()
            let preview = try await Task.detached {
                try SupervisorAudit(phone: phone).addPhoto(id, itemId: itemId, captured: data, at: here)
            }.value
            self.message = "photo: \(preview.summary)"
            try await self.refresh()
        }
    }

    func checkOut() {
        run {
            guard let id = self.inspectionId else { return }
            let here = await self.location.current()
            let phone = try await PhoneAccess.shared.phone()
            self.score = try await Task.detached { try SupervisorAudit(phone: phone).checkOut(id, at: here) }.value
            try await self.refresh()
        }
    }

    private func afterSignIn() async throws {
        let phone = try await PhoneAccess.shared.phone()
        // Listener callbacks arrive on FieldSync's threads; hop to the main actor.
        phone.setListener(listener: PhoneEvents { [weak self] in
            Task { @MainActor in self?.changed() }
        })
        try await PhoneAccess.shared.foreground()
        role = phone.user()?.role
        if role == .supervisor {
            template = try await Task.detached { try phone.templates().first }.value
        }
        if role == .supervisor { location.requestPermission() }
        opening = false
        try await refresh()
    }

    private func changed() {
        run { try await self.refresh() }
    }

    private func refresh() async throws {
        let phone = try await PhoneAccess.shared.phone()
        let isRep = role == .rep
        let id = inspectionId
        let rep = RepOrders(phone: phone)
        status = await Task.detached { rep.statusLine() }.value
        stores = try await Task.detached { try rep.stores() }.value
        if isRep {
            products = try await Task.detached { try rep.products("", limit: 30) }.value
            orders = try await Task.detached { try rep.orders() }.value
        }
        if let id {
            unanswered = try await Task.detached { try SupervisorAudit(phone: phone).unanswered(id) }.value
        } else {
            unanswered = []
        }
    }

    /// Runs `work` and turns a failure into a message; a remote wipe resets the app.
    private func run(_ work: @escaping @MainActor () async throws -> Void) {
        Task {
            do {
                try await work()
            } catch FieldSyncError.Revoked {
                try? await PhoneAccess.shared.resetAfterWipe()
                self.role = nil
                self.message = "This phone was signed out by your company and its data erased."
            } catch FieldSyncError.Offline {
                self.message = "No connection: saved on the phone, it syncs later."
            } catch {
                self.message = "\(error)"
            }
        }
    }

    /// Money with the app's locale: the phone API takes no locale.
    static func money(_ cents: Int64) -> String {
        (Double(cents) / 100).formatted(.number.precision(.fractionLength(2)))
    }
}

struct ContentView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        NavigationStack {
            VStack(alignment: .leading, spacing: 8) {
                Text(model.status).font(.caption)
                if let message = model.message { Text(message).foregroundStyle(.blue) }
                if model.opening {
                    ProgressView("Opening…")
                } else if model.role == .rep {
                    RepView()
                } else if model.role == .supervisor {
                    AuditView()
                } else if model.role != nil {
                    Text("This sample shows the rep's and the supervisor's screens.")
                } else {
                    SignInView()
                }
            }
            .padding()
            .navigationTitle("FieldSync")
        }
    }
}

struct SignInView: View {
    @EnvironmentObject private var model: AppModel
    @State private var tenant = "demo"
    @State private var username = ""
    @State private var password = ""

    var body: some View {
        Form {
            TextField("Company", text: $tenant).textInputAutocapitalization(.never)
            TextField("User", text: $username).textInputAutocapitalization(.never)
            SecureField("Password", text: $password)
            Button("Sign in") { model.signIn(tenant: tenant, username: username, password: password) }
        }
    }
}

struct RepView: View {
    @EnvironmentObject private var model: AppModel
    @State private var storeId: String?
    @State private var quantities: [String: Int64] = [:]

    var body: some View {
        List {
            Section("Store") {
                ForEach(model.stores.prefix(10), id: \.id) { store in
                    Button((store.id == storeId ? "✓ " : "") + store.name) { storeId = store.id }
                }
            }
            Section("Products") {
                ForEach(model.products, id: \.sku) { product in
                    Stepper("\(product.name) (\(AppModel.money(product.basePriceCents))): \(quantities[product.sku] ?? 0)",
                            value: Binding(get: { quantities[product.sku] ?? 0 }, set: { quantities[product.sku] = $0 }),
                            in: 0...999)
                }
                Button("Take order") {
                    if let storeId { model.takeOrder(storeId: storeId, quantities: quantities.filter { $0.value > 0 }) }
                    quantities = [:]
                }
                .disabled(storeId == nil || quantities.values.allSatisfy { $0 == 0 })
            }
            Section("My orders") {
                ForEach(model.orders, id: \.id) { order in
                    Text("\(String(describing: order.status)) · \(order.lineCount) lines · \(AppModel.money(order.totalCents))")
                }
            }
        }
    }
}

struct AuditView: View {
    @EnvironmentObject private var model: AppModel
    @State private var photoItem: String?

    var body: some View {
        List {
            if model.inspectionId == nil {
                ForEach(model.stores.prefix(10), id: \.id) { store in
                    Button("Check in at \(store.name)") { model.checkIn(storeId: store.id) }
                }
            } else if let template = model.template {
                ForEach(template.items, id: \.itemId) { item in
                    VStack(alignment: .leading) {
                        Text(item.text)
                        HStack {
                            Button("Yes") { model.answer(itemId: item.itemId, value: .yes) }
                            Button("No") { model.answer(itemId: item.itemId, value: .no) }
                            Button("N/A") { model.answer(itemId: item.itemId, value: .notApplicable) }
                            if item.requiresPhoto { Button("Photo") { photoItem = item.itemId } }
                        }
                        .buttonStyle(.bordered)
                    }
                }
                Text("To answer: \(model.unanswered.count)")
                Button("Check out") { model.checkOut() }.disabled(!model.unanswered.isEmpty || model.score != nil)
                if let score = model.score {
                    Text("Expected score \(Int(score.score)) (\(String(describing: score.verdict)))")
                    ForEach(score.reasons, id: \.self) { Text("· \($0)") }
                }
            }
        }
        .sheet(item: Binding(get: { photoItem.map(PhotoTarget.init) }, set: { photoItem = $0?.id })) { target in
            CameraPicker { data in model.addPhoto(itemId: target.id, data: data) }
        }
    }
}

private struct PhotoTarget: Identifiable {
    let id: String
}
