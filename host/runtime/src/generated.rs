//! The one `bindgen!` of mageflow: Rust bindings for the `workflow` world in `wit/`.

wasmtime::component::bindgen!({
    world: "workflow",
    path: "../../wit",
    imports: { default: async | trappable },
    exports: { default: async },
});
