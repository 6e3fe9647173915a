// The system camera in SwiftUI: it hands back the photo's original bytes (HEIC on most iPhones),
// which SupervisorAudit converts to JPEG. Not compiled on the Linux build machines.

import SwiftUI
import UIKit
import UniformTypeIdentifiers

struct CameraPicker: UIViewControllerRepresentable {
    let onPhoto: (Data) -> Void
    @Environment(\.dismiss) private var dismiss

    init(onPhoto: @escaping (Data) -> Void) {
        self.onPhoto = onPhoto
    }

    func makeUIViewController(context: Context) -> UIImagePickerController {
        let picker = UIImagePickerController()
        picker.sourceType = UIImagePickerController.isSourceTypeAvailable(.camera) ? .camera : .photoLibrary
        picker.mediaTypes = [UTType.image.identifier]
        picker.delegate = context.coordinator
        return picker
    }

    func updateUIViewController(_ controller: UIImagePickerController, context: Context) {}

    func makeCoordinator() -> Coordinator { Coordinator(self) }

    final class Coordinator: NSObject, UIImagePickerControllerDelegate, UINavigationControllerDelegate {
        private let parent: CameraPicker

        init(_ parent: CameraPicker) { self.parent = parent }

        func imagePickerController(_ picker: UIImagePickerController,
                                   didFinishPickingMediaWithInfo info: [UIImagePickerController.InfoKey: Any]) {
            // A library pick has a file with the original bytes; the camera gives an image (JPEG it).
            if let url = info[.imageURL] as? URL, let data = try? Data(contentsOf: url) {
                parent.onPhoto(data)
            } else if let image = info[.originalImage] as? UIImage, let data = image.jpegData(compressionQuality: CameraPhoto.jpegQuality) {
                parent.onPhoto(data)
            }
            parent.dismiss()
        }

        func imagePickerControllerDidCancel(_ picker: UIImagePickerController) { parent.dismiss() }
    }
}
