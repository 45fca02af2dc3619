// mfakit's version, kept in one place beside CMakeLists.txt's project().
#pragma once

#define MFAKIT_VERSION_MAJOR 0
#define MFAKIT_VERSION_MINOR 1
#define MFAKIT_VERSION_PATCH 0
#define MFAKIT_VERSION_STRING "0.1.0"
