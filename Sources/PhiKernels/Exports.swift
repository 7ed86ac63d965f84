// SafeFile lives in PhiFiles (below PhiTokenizer, which has no dependency on the kernels); every target above
// PhiKernels keeps reaching it through `import PhiKernels`.
@_exported import PhiFiles
