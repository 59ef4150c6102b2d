export declare const defaultAllocatorSettings: { MALLOC_MMAP_THRESHOLD_: string; GLIBC_TUNABLES: string }
export declare function allocatorSettings(env: Record<string, string | undefined>): {
  MALLOC_MMAP_THRESHOLD_: string
  GLIBC_TUNABLES: string
}
