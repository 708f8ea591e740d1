// Public entry point of the package.
export {};
