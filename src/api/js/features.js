// The features an app opts into by importing their module once, so that an app without
// them ships none of their code: "resocket/share" (share.js, the shareAcrossTabs option)
// and "resocket/persist" (persist.js, persistQueue). Each module registers itself here
// when imported; options.js refuses an option whose module is not registered.

export const features = {
  // share.js's shared(): the page's socket on a connection shared by the origin's pages.
  share: undefined,
  // persist.js's Persisted: a socket's emits kept in IndexedDB.
  persist: undefined,
};
