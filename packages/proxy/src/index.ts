/**
 * @asyncmcp/proxy — The asyncmcp gateway as a library.
 *
 * This package is reserved and not implemented yet: it exports nothing. Its API is described in the
 * repository README and arrives in a later release.
 */
export {};
