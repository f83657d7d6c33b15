//! The Dockerfile an image was built from, read only to say which of its lines made each layer:
//! what lets a finding on a file of layer 7 point at the `RUN` or `COPY` line that put it there, and
//! a finding on a base image's layer at the `FROM` line.
//!
//! The instructions are read as BuildKit's parser reads them: parser directives (`# escape=`) at
//! the top, comment lines (also inside a continued instruction), the escape character at the end
//! of a line continuing it, and here-documents (`RUN <<EOF ... EOF`) belonging to their
//! instruction. Only the last stage matters (the image is its result).
//!
//! Layers are matched to instructions from the top: the image's history says which instruction
//! made each layer (`RUN`, `COPY`, `ADD`, and `WORKDIR` when BuildKit created the directory); the
//! last stage's instructions are walked upwards alongside, metadata instructions (which make no
//! layer) skipped. When a layer's instruction is not the next one that makes layers, nothing is
//! matched: a wrong line is worse than none. Layers below the stage's own are the `FROM` line's.

/// One instruction: its keyword in capitals and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub keyword: String,
    pub line: usize,
}

/// The keywords of instructions that make a layer of their own (`WORKDIR` may).
fn makes_layer(keyword: &str) -> bool {
    matches!(keyword, "RUN" | "COPY" | "ADD")
}

/// The escape character the parser directives at the top set (`\` unless `# escape=``).
fn escape_of(text: &str) -> char {
    for line in text.lines() {
        let Some(directive) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = directive.split_once('=') else {
            break;
        };
        if key.trim().eq_ignore_ascii_case("escape") {
            if let Some(c) = value.trim().chars().next() {
                return c;
            }
        }
    }
    '\\'
}

/// Here-document delimiters an instruction line opens: words `<<EOF`, `<<-EOF`, `<<"EOF"` (as
/// BuildKit's parser reads them, the delimiter a name: `$((1<<2))` opens none).
fn heredocs(line: &str) -> Vec<String> {
    line.split_whitespace()
        .filter_map(|word| {
            let word = word.strip_prefix("<<")?;
            let word = word.strip_prefix('-').unwrap_or(word);
            let word = word.trim_matches(['"', '\'']);
            let first = word.chars().next()?;
            (first.is_ascii_alphabetic() || first == '_')
                .then_some(word)
                .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .map(str::to_string)
        })
        .collect()
}

/// Every instruction of the Dockerfile, in order.
pub fn instructions(text: &str) -> Vec<Instruction> {
    let escape = escape_of(text);
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let keyword: String = trimmed
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        out.push(Instruction {
            keyword,
            line: index + 1,
        });
        // The rest of a continued instruction: comment lines inside it are skipped.
        let mut current = trimmed.to_string();
        while current.ends_with(escape) {
            match lines.next() {
                Some((_, next)) if next.trim().starts_with('#') => continue,
                Some((_, next)) => current = next.trim().to_string(),
                None => break,
            }
        }
        // Here-documents run to their delimiter lines.
        for delimiter in heredocs(trimmed) {
            for (_, body) in lines.by_ref() {
                if body.trim() == delimiter {
                    break;
                }
            }
        }
    }
    out
}

/// For each layer of the image (bottom first), the Dockerfile line that made it, when known.
/// `layer_instructions` is the history's instruction for each layer
/// ([`super::config::ImageConfig::layer_instructions`]).
pub fn layer_lines(layer_instructions: &[Option<String>], dockerfile: &str) -> Vec<Option<usize>> {
    let all = instructions(dockerfile);
    let mut lines = vec![None; layer_instructions.len()];
    let Some(from) = all.iter().rposition(|i| i.keyword == "FROM") else {
        return lines;
    };
    let stage = &all[from + 1..];
    let mut next = stage.len();
    let mut layer = layer_instructions.len();
    while layer > 0 {
        let Some(made_by) = layer_instructions[layer - 1].as_deref() else {
            // No instruction for this layer: the base's (an imported one says none), when the
            // stage has no layer left to account for; else the history cannot be followed.
            break;
        };
        let keyword = made_by
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        // The next instruction upwards that makes layers (or WORKDIR, when the layer's is).
        let found = loop {
            if next == 0 {
                break None;
            }
            next -= 1;
            let candidate = &stage[next];
            if candidate.keyword == keyword {
                break Some(candidate.line);
            }
            if makes_layer(&candidate.keyword) {
                // A layer-making instruction the history does not have here: not this Dockerfile.
                return vec![None; layer_instructions.len()];
            }
        };
        match found {
            Some(line) => lines[layer - 1] = Some(line),
            None => break,
        }
        layer -= 1;
    }
    // What is left below the stage's own layers came with its FROM.
    if stage[..next].iter().any(|i| makes_layer(&i.keyword)) {
        return vec![None; layer_instructions.len()];
    }
    for line in lines.iter_mut().take(layer) {
        *line = Some(all[from].line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKERFILE: &str = "# syntax=docker/dockerfile:1\n\
FROM golang:1.22 AS build\n\
RUN go build ./...\n\
\n\
FROM debian:12\n\
ENV A=1\n\
# a comment\n\
RUN apt-get update && \\\n\
    # inside\n\
    apt-get install -y curl\n\
WORKDIR /srv\n\
COPY --from=build /out /srv/app\n\
RUN <<EOF\n\
echo RUN not an instruction\n\
EOF\n\
USER 1000\n\
CMD [\"/srv/app\"]\n";

    fn made(list: &[&str]) -> Vec<Option<String>> {
        list.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn instructions_skip_comments_continuations_and_heredocs() {
        let keywords: Vec<(String, usize)> = instructions(DOCKERFILE)
            .into_iter()
            .map(|i| (i.keyword, i.line))
            .collect();
        let expected = [
            ("FROM", 2),
            ("RUN", 3),
            ("FROM", 5),
            ("ENV", 6),
            ("RUN", 8),
            ("WORKDIR", 11),
            ("COPY", 12),
            ("RUN", 13),
            ("USER", 16),
            ("CMD", 17),
        ];
        assert_eq!(
            keywords,
            expected
                .iter()
                .map(|(k, l)| (k.to_string(), *l))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn layers_take_their_lines_from_the_top_and_the_base_takes_from() {
        // BuildKit: WORKDIR made a layer. Two base layers below.
        let layers = made(&[
            "ADD file:abc in /",
            "CMD [\"bash\"]",
            "RUN apt-get update && apt-get install -y curl",
            "WORKDIR /srv",
            "COPY /out /srv/app",
            "RUN echo",
        ]);
        assert_eq!(
            layer_lines(&layers, DOCKERFILE),
            [Some(5), Some(5), Some(8), Some(11), Some(12), Some(13)]
        );
        // The classic builder: WORKDIR made none.
        let layers = made(&[
            "ADD file:abc in /",
            "RUN apt-get",
            "COPY dir:x in /srv/app",
            "RUN echo",
        ]);
        assert_eq!(
            layer_lines(&layers, DOCKERFILE),
            [Some(5), Some(8), Some(12), Some(13)]
        );
    }

    #[test]
    fn another_dockerfile_matches_nothing() {
        // The history has a COPY where the Dockerfile's last layer is a RUN.
        let layers = made(&["ADD file:abc in /", "RUN a", "COPY x /y"]);
        assert_eq!(
            layer_lines(&layers, "FROM a\nRUN a\nRUN b\n"),
            [None, None, None]
        );
        // More stage layers in the Dockerfile than the image has above its base.
        let layers = made(&["RUN b"]);
        assert_eq!(layer_lines(&layers, "FROM a\nRUN a\nRUN b\n"), [None]);
        // A history that does not account for the layers.
        assert_eq!(
            layer_lines(&[Some("RUN b".into()), None], "FROM a\nRUN b\n"),
            [None, None]
        );
        // An imported base layer says no instruction: it is the FROM line's.
        assert_eq!(
            layer_lines(&[None, Some("RUN b".into())], "FROM a\nRUN b\n"),
            [Some(1), Some(2)]
        );
        assert!(heredocs("RUN echo $((1<<2)) <<-\"END\" <<x1").eq(&["END", "x1"]));
    }
}
