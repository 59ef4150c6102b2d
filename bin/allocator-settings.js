/**
 * The settings of glibc's allocator the server runs with, unless the environment sets its own
 * (`npm start` sets the same in package.json; test/e2e/stop-signals.test.ts checks both).
 *
 * - MALLOC_MMAP_THRESHOLD_: glibc would keep each freed argon2id buffer (19 MiB) in its heap once
 *   its dynamic mmap threshold has grown past that size: after a login burst, hundreds of MiB stay
 *   resident for nothing. A fixed threshold makes such buffers mmap-backed, so they go back to
 *   the system when freed.
 * - GLIBC_TUNABLES=glibc.malloc.hugetlb=1: those buffers are then mapped afresh for every hash, and
 *   on a virtual machine each of their 4,864 pages faulted in on first touch cost more than the hash
 *   itself (84–99 ms of CPU per sign-in against 24–33 ms with the buffer kept in the heap,
 *   measured). Transparent huge pages, asked for with madvise, fault them in 2 MiB at a time:
 *   39–44 ms per sign-in, and resident memory as with the threshold alone. Where the kernel offers
 *   no transparent huge pages the setting does nothing.
 */
export const defaultAllocatorSettings = {
  MALLOC_MMAP_THRESHOLD_: '1048576',
  GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
}

/** The allocator settings for a server started from `env`: the environment's own win. */
export function allocatorSettings(env) {
  return {
    MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ ?? defaultAllocatorSettings.MALLOC_MMAP_THRESHOLD_,
    GLIBC_TUNABLES: env.GLIBC_TUNABLES ?? defaultAllocatorSettings.GLIBC_TUNABLES,
  }
}
