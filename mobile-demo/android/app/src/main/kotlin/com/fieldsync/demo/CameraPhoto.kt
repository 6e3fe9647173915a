package com.fieldsync.demo

/** What a camera or the photo library handed the app, from the file's first bytes. */
enum class ImageKind {
    /** JPEG: stored as it is. */
    JPEG,

    /** PNG: stored as it is. */
    PNG,

    /**
     * HEIF (HEIC, the iPhone camera's default, and many Android cameras' "high efficiency"
     * setting) or AVIF: FieldSync stores only JPEG and PNG, so the OS converts it first.
     */
    HEIF,

    /** Anything else: not a photo FieldSync can use. */
    OTHER,
}

/** What the app does with a captured photo before `addPhoto`. */
sealed interface PhotoPlan {
    /** Hand the bytes over unchanged (their EXIF, with time and place, stays). */
    data object AsIs : PhotoPlan

    /** Decode with the OS and re-encode as JPEG at [quality] (0-100). */
    data class ConvertToJpeg(val quality: Int) : PhotoPlan

    /** Refuse, saying why. */
    data class Refuse(val reason: String) : PhotoPlan
}

/**
 * Decodes an image the OS can read and encodes it as JPEG: `ImageDecoder` and
 * `Bitmap.compress` on Android (`app/OsJpegEncoder.kt`), `UIImage.jpegData` on iOS.
 */
fun interface JpegEncoder {
    /** The JPEG of [image] at [quality] (0-100). */
    fun encode(image: ByteArray, quality: Int): ByteArray
}

/** The HEIC → JPEG decision, made on the bytes rather than on a file name or a MIME type. */
object CameraPhoto {
    /** JPEG quality of a converted photo: the relay's scoring reads shelves, not fine grain. */
    const val JPEG_QUALITY = 90

    // ISO base media file brands of HEIF still images and sequences, and of AVIF.
    private val HEIF_BRANDS = setOf("heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "avif", "avis")

    /** The kind of image [bytes] hold. */
    fun kind(bytes: ByteArray): ImageKind = when {
        bytes.size >= 3 && bytes[0] == 0xFF.toByte() && bytes[1] == 0xD8.toByte() && bytes[2] == 0xFF.toByte() -> ImageKind.JPEG
        bytes.size >= 8 && bytes.copyOfRange(0, 8).contentEquals(PNG_SIGNATURE) -> ImageKind.PNG
        isHeif(bytes) -> ImageKind.HEIF
        else -> ImageKind.OTHER
    }

    /** What to do with [bytes] before `addPhoto`. */
    fun plan(bytes: ByteArray): PhotoPlan = when (kind(bytes)) {
        ImageKind.JPEG, ImageKind.PNG -> PhotoPlan.AsIs
        ImageKind.HEIF -> PhotoPlan.ConvertToJpeg(JPEG_QUALITY)
        ImageKind.OTHER -> PhotoPlan.Refuse(
            if (bytes.isEmpty()) "the photo is empty (0 bytes)" else "the photo is neither jpeg, png nor heic: take it again",
        )
    }

    /** The bytes to hand to `addPhoto`: [bytes] themselves, or their JPEG made by [encoder]. */
    fun prepare(bytes: ByteArray, encoder: JpegEncoder): ByteArray = when (val plan = plan(bytes)) {
        PhotoPlan.AsIs -> bytes
        is PhotoPlan.ConvertToJpeg -> encoder.encode(bytes, plan.quality).also { jpeg ->
            check(kind(jpeg) == ImageKind.JPEG) { "the converter returned ${jpeg.size} bytes that are not a jpeg" }
        }
        is PhotoPlan.Refuse -> throw IllegalArgumentException(plan.reason)
    }

    // An ISO BMFF file starts with its `ftyp` box: size (4), "ftyp", major brand (4), minor
    // version (4), compatible brands (4 each) up to the box's size.
    private fun isHeif(bytes: ByteArray): Boolean {
        if (bytes.size < 12 || String(bytes, 4, 4, Charsets.US_ASCII) != "ftyp") return false
        val boxSize = ((bytes[0].toInt() and 0xFF) shl 24) or ((bytes[1].toInt() and 0xFF) shl 16) or
            ((bytes[2].toInt() and 0xFF) shl 8) or (bytes[3].toInt() and 0xFF)
        val end = minOf(boxSize, bytes.size)
        if (end < 12) return false
        val brands = (listOf(8) + (16 until end - 3 step 4)).map { String(bytes, it, 4, Charsets.US_ASCII) }
        return brands.any { it in HEIF_BRANDS }
    }

    private val PNG_SIGNATURE = byteArrayOf(0x89.toByte(), 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A)
}
