package com.fieldsync.demo.app

import android.graphics.Bitmap
import android.graphics.ImageDecoder
import androidx.exifinterface.media.ExifInterface
import com.fieldsync.demo.JpegEncoder
import java.io.ByteArrayInputStream
import java.io.File
import java.nio.ByteBuffer

/**
 * HEIC → JPEG with the OS: `ImageDecoder` (API 28+, applies the EXIF orientation) and
 * `Bitmap.compress`. The capture time and place are copied into the JPEG's EXIF, since the
 * relay's scoring compares them with the visit.
 */
class OsJpegEncoder(private val scratch: File) : JpegEncoder {
    override fun encode(image: ByteArray, quality: Int): ByteArray {
        val bitmap = ImageDecoder.decodeBitmap(ImageDecoder.createSource(ByteBuffer.wrap(image))) { decoder, _, _ ->
            decoder.allocator = ImageDecoder.ALLOCATOR_SOFTWARE
        }
        val jpeg = File(scratch, "converted.jpg")
        try {
            jpeg.outputStream().use { out -> check(bitmap.compress(Bitmap.CompressFormat.JPEG, quality, out)) { "jpeg encoding failed" } }
            bitmap.recycle()
            val original = ExifInterface(ByteArrayInputStream(image))
            val copy = ExifInterface(jpeg)
            for (tag in COPIED_TAGS) original.getAttribute(tag)?.let { copy.setAttribute(tag, it) }
            // The pixels are already upright.
            copy.setAttribute(ExifInterface.TAG_ORIENTATION, ExifInterface.ORIENTATION_NORMAL.toString())
            copy.saveAttributes()
            return jpeg.readBytes()
        } finally {
            jpeg.delete()
        }
    }

    private companion object {
        val COPIED_TAGS = listOf(
            ExifInterface.TAG_DATETIME_ORIGINAL, ExifInterface.TAG_OFFSET_TIME_ORIGINAL,
            ExifInterface.TAG_SUBSEC_TIME_ORIGINAL, ExifInterface.TAG_MAKE, ExifInterface.TAG_MODEL,
            ExifInterface.TAG_GPS_LATITUDE, ExifInterface.TAG_GPS_LATITUDE_REF,
            ExifInterface.TAG_GPS_LONGITUDE, ExifInterface.TAG_GPS_LONGITUDE_REF,
        )
    }
}
