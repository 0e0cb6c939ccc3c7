//! How far apart two names are, for "did you mean" hints (`dangling-reference`,
//! `unknown-key`).

/// How many characters of a name [`distance`] looks at: a hostile file's huge names cost no
/// more than short ones.
pub const CMP_CHARS: usize = 128;

/// Optimal string alignment distance (insertions, deletions, substitutions and swaps of
/// two neighbours each count one) between the first [`CMP_CHARS`] characters of `a` and `b`.
/// Three rows of memory; at most `CMP_CHARS²` steps.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(CMP_CHARS).collect();
    let b: Vec<char> = b.chars().take(CMP_CHARS).collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(before[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::distance;

    #[test]
    fn counts_edits_and_neighbour_swaps() {
        assert_eq!(distance("prodution", "production"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("sever", "server"), 1);
        assert_eq!(distance("sevrer", "server"), 1, "a swap counts one");
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("same", "same"), 0);
    }

    #[test]
    fn looks_only_at_the_start_of_huge_names() {
        let a = "x".repeat(10_000);
        let b = format!("{}y", "x".repeat(20_000));
        assert_eq!(distance(&a, &b), 0);
    }
}
