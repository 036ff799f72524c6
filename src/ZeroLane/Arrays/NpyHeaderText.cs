using System.Globalization;

namespace ZeroLane.Arrays;

/// <summary>
/// Parses the header text of a .npy file: the Python dict literal NumPy writes, then optional comments,
/// one of which may carry ZeroLane's metadata.
/// </summary>
/// <remarks>
/// Design: a small recursive-descent parser for exactly the literals NumPy headers use (strings, True/False,
/// tuples of non-negative integers), so that nothing in the header is ever evaluated. Anything else is refused
/// with <see cref="MappedArrayFormatException"/>; a list where 'descr' belongs is a structured dtype and is named in the error.
/// </remarks>
internal ref struct NpyHeaderText
{
    private readonly string _text;
    private readonly string _path;
    private int _position;

    private NpyHeaderText(string text, string path)
    {
        _text = text;
        _path = path;
        _position = 0;
    }

    internal sealed record Result(string Descr, bool FortranOrder, long[] Shape, string? MetadataJson, int DictEnd);

    internal static Result Parse(string text, string path)
    {
        var parser = new NpyHeaderText(text, path);
        return parser.ParseHeader();
    }

    private Result ParseHeader()
    {
        if (_text.Length == 0 || _text[^1] != '\n')
        {
            throw Error("the header text does not end with a newline");
        }
        string? descr = null;
        bool? fortranOrder = null;
        long[]? shape = null;

        SkipWhitespace();
        Expect('{');
        while (true)
        {
            SkipWhitespace();
            if (Peek() == '}')
            {
                _position++;
                break;
            }
            string key = ParseString();
            SkipWhitespace();
            Expect(':');
            SkipWhitespace();
            switch (key)
            {
                case "descr" when descr is null:
                    if (Peek() is '[' or '(' or '{')
                    {
                        throw new MappedArrayFormatException(
                            $"The array in '{_path}' has the structured dtype {RawValue()}; only plain numeric dtypes are supported.");
                    }
                    descr = ParseString();
                    break;
                case "fortran_order" when fortranOrder is null:
                    fortranOrder = ParseBool();
                    break;
                case "shape" when shape is null:
                    shape = ParseShape();
                    break;
                default:
                    throw Error($"unexpected or repeated key '{key}'");
            }
            SkipWhitespace();
            if (Peek() == ',')
            {
                _position++;
            }
            else if (Peek() != '}')
            {
                throw Error($"expected ',' or '}}' at offset {_position}");
            }
        }
        int dictEnd = _position;
        if (descr is null || fortranOrder is null || shape is null)
        {
            throw Error("the header lacks one of the keys 'descr', 'fortran_order' and 'shape'");
        }

        string? metadata = null;
        while (_position < _text.Length)
        {
            char c = _text[_position];
            if (c is ' ' or '\t' or '\r' or '\n' or '\f')
            {
                _position++;
                continue;
            }
            if (c != '#')
            {
                throw Error($"unexpected '{c}' after the dict at offset {_position}");
            }
            int lineEnd = _text.IndexOf('\n', _position);
            string comment = _text[_position..lineEnd];
            if (metadata is null && comment.StartsWith(NpyHeader.MetadataPrefix, StringComparison.Ordinal))
            {
                metadata = comment[NpyHeader.MetadataPrefix.Length..].TrimEnd(' ', '\t', '\r');
            }
            _position = lineEnd + 1;
        }
        return new Result(descr, fortranOrder.Value, shape, metadata, dictEnd);
    }

    private string RawValue()
    {
        int depth = 0;
        int start = _position;
        for (; _position < _text.Length; _position++)
        {
            char c = _text[_position];
            if (c is '[' or '(' or '{')
            {
                depth++;
            }
            else if (c is ']' or ')' or '}' && --depth == 0)
            {
                return _text[start..(_position + 1)];
            }
        }
        return _text[start..];
    }

    private string ParseString()
    {
        char quote = Peek();
        if (quote is not ('\'' or '"'))
        {
            throw Error($"expected a string at offset {_position}");
        }
        int end = _text.IndexOf(quote, _position + 1);
        if (end < 0)
        {
            throw Error("unterminated string");
        }
        string value = _text[(_position + 1)..end];
        if (value.Contains('\\') || value.Contains('\n'))
        {
            throw Error($"unsupported string literal {quote}{value}{quote}");
        }
        _position = end + 1;
        return value;
    }

    private bool ParseBool()
    {
        if (string.CompareOrdinal(_text, _position, "True", 0, 4) == 0)
        {
            _position += 4;
            return true;
        }
        if (string.CompareOrdinal(_text, _position, "False", 0, 5) == 0)
        {
            _position += 5;
            return false;
        }
        throw Error($"expected True or False at offset {_position}");
    }

    private long[] ParseShape()
    {
        Expect('(');
        var dimensions = new List<long>();
        while (true)
        {
            SkipWhitespace();
            if (Peek() == ')')
            {
                _position++;
                return [.. dimensions];
            }
            int start = _position;
            while (_position < _text.Length && char.IsAsciiDigit(_text[_position]))
            {
                _position++;
            }
            if (start == _position ||
                !long.TryParse(_text.AsSpan(start, _position - start), NumberStyles.None, CultureInfo.InvariantCulture, out long dimension))
            {
                throw Error($"expected a non-negative 64-bit dimension in the shape at offset {start}");
            }
            if (Peek() is 'L' or 'l')
            {
                _position++; // Python 2 long literals, written by old NumPy versions.
            }
            dimensions.Add(dimension);
            if (dimensions.Count > 64)
            {
                throw Error("the shape has more than 64 dimensions");
            }
            SkipWhitespace();
            if (Peek() == ',')
            {
                _position++;
            }
            else if (Peek() != ')')
            {
                throw Error($"expected ',' or ')' in the shape at offset {_position}");
            }
        }
    }

    private char Peek() => _position < _text.Length ? _text[_position] : '\0';

    private void Expect(char c)
    {
        if (Peek() != c)
        {
            throw Error($"expected '{c}' at offset {_position}");
        }
        _position++;
    }

    private void SkipWhitespace()
    {
        while (_position < _text.Length && _text[_position] is ' ' or '\t' or '\r' or '\n' or '\f')
        {
            _position++;
        }
    }

    private readonly MappedArrayFormatException Error(string what) =>
        new($"The header of '{_path}' is not a valid .npy header: {what}.");
}
