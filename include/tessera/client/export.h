// Symbol visibility of the SDK's shared library: it is built with hidden visibility, so only
// what is marked TESSERA_CLIENT_EXPORT (the public API) is exported; the core, Boost and the
// SDK's internals stay private to the library.
#ifndef TESSERA_CLIENT_EXPORT_H_
#define TESSERA_CLIENT_EXPORT_H_

#define TESSERA_CLIENT_EXPORT __attribute__((visibility("default")))

#endif  // TESSERA_CLIENT_EXPORT_H_
