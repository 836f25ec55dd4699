// k-NN manifolds of feature sets (precision and recall, Kynkäänniemi et al. 2019; density and
// coverage, Naeem et al. 2020), tile by tile: the cross terms q·x of a tile of queries × a tile
// of reference points come from the matmul kernel; these kernels turn them into squared
// distances ‖q‖² + ‖x‖² − 2q·x (clamped at 0: f32 cancellation can make a near-zero distance
// slightly negative) and fold them into per-query state:
//   knn_accumulate   each query's K smallest distances to the other points of its own set
//                    (the query's own index skipped, so an exact duplicate counts as a
//                    neighbour at distance 0); the K-th is the radius of its k-NN ball.
//   ball_accumulate  per query, how many reference balls contain it and how many reference
//                    points lie in its own ball (both strictly inside: d² < radius²).
// Each invocation owns one query and walks its tile in order: integer counts and sorted
// lists, no atomics, the same answer on every adapter.

struct Params {
    // Queries and reference points in this tile.
    rows: u32,
    cols: u32,
    // Index of the tile's first query, and of its first reference point in the chunk's norms.
    row_offset: u32,
    col_offset: u32,
    // Index of the tile's first reference point in the whole reference set (the set may be
    // split into buffers, each with its own norms; radii and self indices count globally).
    index_base: u32,
    // Neighbours kept per point (1..=MAX_K); the radius is the K-th.
    k: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cross_terms: array<f32>;
@group(0) @binding(2) var<storage, read> query_norms: array<f32>;
@group(0) @binding(3) var<storage, read> reference_norms: array<f32>;
// knn_accumulate: [queries, k] ascending squared distances.
@group(0) @binding(4) var<storage, read_write> neighbours: array<f32>;

// The first reference tile of a query starts afresh instead of reading the state.
override FIRST: bool = false;

const WG: u32 = 64u;
const MAX_K: u32 = 8u;
// Larger than any distance: the empty slots of a fresh list.
const FAR: f32 = 3.4028235e38;

fn squared_distance(row: u32, col: u32, q_norm: f32) -> f32 {
    let c = cross_terms[row * params.cols + col];
    return max(q_norm + reference_norms[params.col_offset + col] - 2.0 * c, 0.0);
}

@compute @workgroup_size(64)
fn knn_accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = flat_index(gid, groups, WG);
    if (row >= params.rows) {
        return;
    }
    let k = params.k;
    let query = params.row_offset + row;
    let q_norm = query_norms[query];
    var best: array<f32, MAX_K>;
    for (var i = 0u; i < k; i++) {
        if (FIRST) {
            best[i] = FAR;
        } else {
            best[i] = neighbours[query * k + i];
        }
    }
    for (var col = 0u; col < params.cols; col++) {
        if (params.index_base + col == query) {
            continue;
        }
        let d = squared_distance(row, col, q_norm);
        if (d < best[k - 1u]) {
            // Insertion into the sorted list; equal distances keep their order of arrival.
            var j = k - 1u;
            while (j > 0u && best[j - 1u] > d) {
                best[j] = best[j - 1u];
                j--;
            }
            best[j] = d;
        }
    }
    for (var i = 0u; i < k; i++) {
        neighbours[query * k + i] = best[i];
    }
}

// ball_accumulate's own bindings (after the shared ones): the squared radii as [count, k]
// neighbour lists (the K-th entry of each row), and the counts [queries, 2]: reference balls
// containing the query, reference points inside the query's ball.
@group(0) @binding(4) var<storage, read> query_neighbours: array<f32>;
@group(0) @binding(5) var<storage, read> reference_neighbours: array<f32>;
@group(0) @binding(6) var<storage, read_write> counts: array<u32>;

@compute @workgroup_size(64)
fn ball_accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = flat_index(gid, groups, WG);
    if (row >= params.rows) {
        return;
    }
    let k = params.k;
    let query = params.row_offset + row;
    let q_norm = query_norms[query];
    let own_radius = query_neighbours[query * k + k - 1u];
    var in_balls = 0u;
    var in_own = 0u;
    if (!FIRST) {
        in_balls = counts[2u * query];
        in_own = counts[2u * query + 1u];
    }
    for (var col = 0u; col < params.cols; col++) {
        let d = squared_distance(row, col, q_norm);
        let radius = reference_neighbours[(params.index_base + col) * k + k - 1u];
        in_balls += select(0u, 1u, d < radius);
        in_own += select(0u, 1u, d < own_radius);
    }
    counts[2u * query] = in_balls;
    counts[2u * query + 1u] = in_own;
}
