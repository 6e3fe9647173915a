package com.fieldsync.demo.app

import android.app.Application
import android.os.Build
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import com.fieldsync.demo.AuditProgress
import com.fieldsync.demo.LocationReading
import com.fieldsync.demo.RepOrders
import com.fieldsync.demo.SupervisorAudit
import com.fieldsync.demo.listen
import java.io.File
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import uniffi.fieldsync_ffi.AnswerValue
import uniffi.fieldsync_ffi.FieldSyncException
import uniffi.fieldsync_ffi.OrderSummary
import uniffi.fieldsync_ffi.Product
import uniffi.fieldsync_ffi.RetailStore
import uniffi.fieldsync_ffi.Role
import uniffi.fieldsync_ffi.ScoreReport
import uniffi.fieldsync_ffi.Template

/** What the screen shows. */
data class UiState(
    val opening: Boolean = true,
    val role: Role? = null,
    val status: String = "",
    val message: String? = null,
    val stores: List<RetailStore> = emptyList(),
    val products: List<Product> = emptyList(),
    val orders: List<OrderSummary> = emptyList(),
    val templates: List<Template> = emptyList(),
    val inspectionId: String? = null,
    val progress: AuditProgress? = null,
    val score: ScoreReport? = null,
)

/**
 * The screen's logic: every FieldSync call runs on `Dispatchers.IO` (the database, opened at
 * the first call, included); results come back as [state] for Compose.
 */
class MainViewModel(app: Application) : AndroidViewModel(app) {
    private val application = app as FieldSyncApplication
    private val access = application.access
    private val _state = MutableStateFlow(UiState())
    val state: StateFlow<UiState> = _state

    init {
        io {
            if (access.isSignedIn()) afterSignIn() else _state.update { it.copy(opening = false) }
        }
    }

    fun signIn(tenant: String, username: String, password: String) = io {
        access.signIn(tenant, username, password, "${Build.MANUFACTURER} ${Build.MODEL}")
        access.phone.syncDocumentsNow()
        afterSignIn()
    }

    fun takeOrder(storeId: String, quantities: Map<String, Long>) = io {
        val order = RepOrders(access.phone).takeOrder(storeId, quantities.filterValues { it > 0 })
        refresh("order for ${order.totalCents / 100.0} saved")
    }

    fun checkIn(storeId: String, templateId: String, reading: LocationReading?) = io {
        val id = audit().checkIn(storeId, templateId, reading)
        _state.update { it.copy(inspectionId = id, score = null) }
        refresh("checked in")
    }

    fun answer(itemId: String, value: AnswerValue) = io {
        audit().answer(inspection(), itemId, value)
        refresh(null)
    }

    fun addPhoto(itemId: String, bytes: ByteArray, reading: LocationReading?) = io {
        val preview = audit().addPhoto(inspection(), itemId, bytes, reading)
        refresh("photo: ${preview.summary}")
    }

    fun checkOut(reading: LocationReading?) = io {
        val score = audit().checkOut(inspection(), reading)
        _state.update { it.copy(score = score) }
        refresh("checked out: expected score ${score.score.toInt()}")
    }

    private suspend fun afterSignIn() {
        val phone = access.phone
        phone.listen(changed = { io { refresh(null) } }, synced = { io { refresh(null) } })
        access.foreground()
        val role = phone.user()?.role
        _state.update { it.copy(opening = false, role = role, templates = if (role == Role.SUPERVISOR) phone.templates() else emptyList()) }
        refresh(null)
    }

    private fun refresh(message: String?) {
        val phone = access.phone
        val rep = RepOrders(phone)
        _state.update { state ->
            state.copy(
                status = rep.statusLine(),
                message = message ?: state.message,
                stores = rep.stores(),
                products = if (state.role == Role.REP) rep.products("", 30u) else emptyList(),
                orders = if (state.role == Role.REP) rep.orders() else emptyList(),
                progress = state.inspectionId?.let { audit().progress(it) },
            )
        }
    }

    private fun audit() = SupervisorAudit(access.phone, OsJpegEncoder(File(application.cacheDir, "capture").apply { mkdirs() }))

    private fun inspection() = checkNotNull(_state.value.inspectionId) { "check in first" }

    /** Runs [work] off the main thread and turns a failure into a message for the screen. */
    private fun io(work: suspend () -> Unit) {
        viewModelScope.launch(Dispatchers.IO) {
            try {
                work()
            } catch (error: FieldSyncException.Revoked) {
                access.resetAfterWipe()
                SyncWork.cancelAll(application)
                _state.value = UiState(opening = false, message = "This phone was signed out by your company and its data erased.")
            } catch (error: FieldSyncException.Offline) {
                _state.update { it.copy(message = "No connection: saved on the phone, it syncs later.") }
            } catch (error: FieldSyncException) {
                _state.update { it.copy(message = error.message) }
            } catch (error: IllegalStateException) {
                _state.update { it.copy(message = error.message) }
            } catch (error: IllegalArgumentException) {
                _state.update { it.copy(message = error.message) }
            }
        }
    }
}
