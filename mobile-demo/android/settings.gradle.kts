// The FieldSync sample app for Android: a rep's orders and a supervisor's store audit.
// Open this folder in Android Studio (see ../README-platforms.md for the native library and the
// generated Kotlin it needs first).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "FieldSyncDemo"
include(":app")
