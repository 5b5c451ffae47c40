// Locals are not zeroed on entry: the normalizer keeps ~1.5 KB of value slots on the stack per
// message and reads only those it has written (RawMessage). Every stackalloc in this assembly is
// written before it is read; a struct holding references is still zeroed by the runtime.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
