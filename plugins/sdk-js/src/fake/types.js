// The types interface has no functions: its records are plain objects.
export {};
