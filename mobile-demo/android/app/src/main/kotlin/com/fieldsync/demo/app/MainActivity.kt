package com.fieldsync.demo.app

import android.Manifest
import android.content.pm.PackageManager
import android.net.Uri
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.compose.setContent
import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateMapOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import androidx.core.content.ContextCompat
import androidx.core.content.FileProvider
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewmodel.compose.viewModel
import com.fieldsync.demo.LocationReading
import java.io.File
import java.text.NumberFormat
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import uniffi.fieldsync_ffi.AnswerValue
import uniffi.fieldsync_ffi.Role

/** The one screen: sign-in, then the rep's orders or the supervisor's audit. */
class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent { MaterialTheme { FieldSyncScreen() } }
    }
}

@Composable
private fun FieldSyncScreen(model: MainViewModel = viewModel()) {
    val state by model.state.collectAsStateWithLifecycle()
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(state.status, style = MaterialTheme.typography.labelMedium)
        state.message?.let { Text(it, color = MaterialTheme.colorScheme.primary) }
        when {
            state.opening -> Text("Opening…")
            state.role == Role.REP -> RepScreen(state, model)
            state.role == Role.SUPERVISOR -> AuditScreen(state, model)
            state.role != null -> Text("This sample shows the rep's and the supervisor's screens.")
            else -> SignInScreen(model)
        }
    }
}

@Composable
private fun SignInScreen(model: MainViewModel) {
    var tenant by remember { mutableStateOf("demo") }
    var username by remember { mutableStateOf("") }
    var password by remember { mutableStateOf("") }
    OutlinedTextField(tenant, { tenant = it }, label = { Text("Company") })
    OutlinedTextField(username, { username = it }, label = { Text("User") })
    OutlinedTextField(password, { password = it }, label = { Text("Password") }, visualTransformation = PasswordVisualTransformation())
    Button({ model.signIn(tenant, username, password) }) { Text("Sign in") }
}

@Composable
private fun RepScreen(state: UiState, model: MainViewModel) {
    // Money is formatted with the app's locale here: the phone API takes no locale.
    val money = remember { NumberFormat.getNumberInstance().apply { minimumFractionDigits = 2; maximumFractionDigits = 2 } }
    var storeId by remember { mutableStateOf<String?>(null) }
    val quantities = remember { mutableStateMapOf<String, Long>() }
    LazyColumn(Modifier.fillMaxSize(), verticalArrangement = Arrangement.spacedBy(4.dp)) {
        item { Text("Store", style = MaterialTheme.typography.titleMedium) }
        items(state.stores.take(10), key = { it.id }) { store ->
            OutlinedButton({ storeId = store.id }) { Text((if (store.id == storeId) "✓ " else "") + store.name) }
        }
        item { Text("Products", style = MaterialTheme.typography.titleMedium) }
        items(state.products, key = { it.sku }) { product ->
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Text("${product.name} (${money.format(product.basePriceCents / 100.0)})", Modifier.weight(1f))
                OutlinedButton({ quantities[product.sku] = (quantities[product.sku] ?: 0L) + 1 }) { Text("+ ${quantities[product.sku] ?: 0L}") }
            }
        }
        item {
            Button({ storeId?.let { model.takeOrder(it, quantities.toMap()); quantities.clear() } }, enabled = storeId != null && quantities.isNotEmpty()) {
                Text("Take order")
            }
        }
        item { Text("My orders", style = MaterialTheme.typography.titleMedium) }
        items(state.orders, key = { it.id }) { order -> Text("${order.status} · ${order.lineCount} lines · ${money.format(order.totalCents / 100.0)}") }
    }
}

@Composable
private fun AuditScreen(state: UiState, model: MainViewModel) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var photoItem by remember { mutableStateOf<String?>(null) }
    val capture = remember { File(context.cacheDir, "capture/camera.jpg").also { it.parentFile?.mkdirs() } }
    val captureUri: Uri = remember { FileProvider.getUriForFile(context, "${context.packageName}.photos", capture) }

    suspend fun here(): LocationReading? =
        if (ContextCompat.checkSelfPermission(context, Manifest.permission.ACCESS_FINE_LOCATION) == PackageManager.PERMISSION_GRANTED) {
            currentLocation(context)
        } else {
            null
        }

    fun addPhoto(bytes: ByteArray) {
        val item = photoItem ?: return
        scope.launch { model.addPhoto(item, bytes, here()) }
    }

    val permissions = rememberLauncherForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) {}
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { taken ->
        if (taken) {
            scope.launch {
                // Read and delete the capture off the main thread; its bytes go into the encrypted database.
                val bytes = withContext(Dispatchers.IO) { capture.readBytes().also { capture.delete() } }
                addPhoto(bytes)
            }
        }
    }
    // The photo library hands out HEIC as it was taken on many phones: SupervisorAudit converts it.
    val library = rememberLauncherForActivityResult(ActivityResultContracts.PickVisualMedia()) { uri ->
        if (uri != null) {
            scope.launch {
                val bytes = withContext(Dispatchers.IO) { context.contentResolver.openInputStream(uri)?.use { it.readBytes() } }
                bytes?.let(::addPhoto)
            }
        }
    }

    LazyColumn(Modifier.fillMaxSize(), verticalArrangement = Arrangement.spacedBy(4.dp)) {
        val inspection = state.inspectionId
        val template = state.templates.firstOrNull()
        if (inspection == null || template == null) {
            item {
                Button({ permissions.launch(arrayOf(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)) }) {
                    Text("Allow location")
                }
            }
            items(state.stores.take(10), key = { it.id }) { store ->
                OutlinedButton({ template?.let { t -> scope.launch { model.checkIn(store.id, t.id, here()) } } }) {
                    Text("Check in at ${store.name}")
                }
            }
        } else {
            items(template.items, key = { it.itemId }) { item ->
                Column {
                    Text(item.text)
                    Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                        OutlinedButton({ model.answer(item.itemId, AnswerValue.YES) }) { Text("Yes") }
                        OutlinedButton({ model.answer(item.itemId, AnswerValue.NO) }) { Text("No") }
                        OutlinedButton({ model.answer(item.itemId, AnswerValue.NOT_APPLICABLE) }) { Text("N/A") }
                        if (item.requiresPhoto) {
                            OutlinedButton({ photoItem = item.itemId; camera.launch(captureUri) }) { Text("Camera") }
                            OutlinedButton({
                                photoItem = item.itemId
                                library.launch(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly))
                            }) { Text("Library") }
                        }
                    }
                }
            }
            item {
                state.progress?.let { progress ->
                    Text("To answer: ${progress.unanswered.size} · photos missing: ${progress.missingPhotos.size}")
                }
                Button({ scope.launch { model.checkOut(here()) } }, enabled = state.progress?.unanswered?.isEmpty() == true && state.score == null) {
                    Text("Check out")
                }
                state.score?.let { score ->
                    Text("Expected score ${score.score.toInt()} (${score.verdict})")
                    score.reasons.forEach { Text("· $it") }
                }
            }
        }
    }
}
