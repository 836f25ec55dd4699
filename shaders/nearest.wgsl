// Nearest neighbours by squared Euclidean distance, tile by tile: the cross terms q·x of a tile
// of queries × a tile of the reference set come from the matmul kernel; this kernel turns them
// into ‖q‖² + ‖x‖² − 2q·x (clamped at 0: f32 cancellation can make a near-zero distance
// slightly negative) and keeps, per query, the smallest distance and its reference index.
// Each invocation owns one query and walks its tile in order, keeping the first of equal
// distances: tiles in a fixed order give the same answer on every adapter.

struct Params {
    // Queries and reference points in this tile.
    rows: u32,
    cols: u32,
    // Index of the tile's first query, and of its first reference point in the norms.
    row_offset: u32,
    col_offset: u32,
    // The reported index of the tile's first reference point (the reference set may be split
    // into buffers, each with its own norms).
    index_base: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cross_terms: array<f32>;
@group(0) @binding(2) var<storage, read> query_norms: array<f32>;
@group(0) @binding(3) var<storage, read> reference_norms: array<f32>;
@group(0) @binding(4) var<storage, read_write> best_distance: array<f32>;
@group(0) @binding(5) var<storage, read_write> best_index: array<u32>;

// The first reference tile of a query starts afresh instead of comparing with the state.
override FIRST: bool = false;

const WG: u32 = 64u;

@compute @workgroup_size(64)
fn nearest_accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = flat_index(gid, groups, WG);
    if (row >= params.rows) {
        return;
    }
    let query = params.row_offset + row;
    let q_norm = query_norms[query];
    var best = 0.0;
    var index = 0u;
    var start = 0u;
    if (FIRST) {
        best = max(q_norm + reference_norms[params.col_offset] - 2.0 * cross_terms[row * params.cols], 0.0);
        index = params.index_base;
        start = 1u;
    } else {
        best = best_distance[query];
        index = best_index[query];
    }
    for (var col = start; col < params.cols; col++) {
        let c = cross_terms[row * params.cols + col];
        let d = max(q_norm + reference_norms[params.col_offset + col] - 2.0 * c, 0.0);
        if (d < best) {
            best = d;
            index = params.index_base + col;
        }
    }
    best_distance[query] = best;
    best_index[query] = index;
}
