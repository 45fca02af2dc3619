// The translation unit that precompiles the headers the test suites share
// (MFAKIT_TEST_PCH in CMakeLists.txt); it has no code of its own.
