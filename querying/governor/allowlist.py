"""What a governed query may contain: node types, functions and cast types (fail closed).

Anything not listed here is refused. Functions are pure and read only their arguments: nothing
that reads files, settings, catalogs, sequences, other databases or sessions. Because every
product is replaced by a masked derived table, functions over columns only ever see masked values.
"""

from __future__ import annotations

from sqlglot import exp


def _classes(*names: str) -> frozenset[type[exp.Expression]]:
    """Resolve sqlglot class names, skipping ones this sqlglot version lacks."""
    found = (getattr(exp, name, None) for name in names)
    return frozenset(c for c in found if isinstance(c, type) and issubclass(c, exp.Expression))


# Structure, literals and operators. Table, Lateral, Dot, Var, Cast and DataType are allowed here
# and then checked by the walker with their context.
# fmt: off
ALLOWED_NODES = _classes(
    # query structure
    "Select", "Union", "Intersect", "Except", "Subquery", "With", "CTE", "TableAlias", "From",
    "Join", "Where", "Group", "Having", "Qualify", "Order", "Ordered", "Limit", "Offset", "Fetch",
    "LimitOptions", "Distinct", "Window", "WindowSpec", "Values", "Tuple", "Table", "Lateral",
    "Cube", "Rollup", "GroupingSets", "TableSample",
    # names and values
    "Column", "Identifier", "Star", "Alias", "Aliases", "Paren", "Literal", "Boolean", "Null",
    "RawString", "HexString", "BitString", "PositionalColumn", "Dot", "Bracket", "Slice", "Var",
    "DataType", "DataTypeParam", "Interval", "IntervalSpan", "Lambda", "PropertyEQ",
    # operators and predicates
    "Add", "Sub", "Mul", "Div", "IntDiv", "Mod", "Neg", "Not", "And", "Or", "Xor", "DPipe", "EQ",
    "NEQ", "GT", "GTE", "LT", "LTE", "NullSafeEQ", "NullSafeNEQ", "Is", "In", "Between", "Like",
    "ILike", "SimilarTo", "Glob", "Escape", "Any", "All", "Exists", "BitwiseAnd", "BitwiseOr",
    "BitwiseXor", "BitwiseNot", "BitwiseLeftShift", "BitwiseRightShift", "AtTimeZone", "Case",
    "If", "Filter", "WithinGroup", "IgnoreNulls", "RespectNulls",
    # JSON paths (arguments of the JSON extract functions)
    "JSONPath", "JSONPathRoot", "JSONPathKey", "JSONPathSubscript", "JSONPathSlice",
    "JSONPathWildcard", "JSONPathPart",
)
# fmt: on

# sqlglot's typed functions that are pure and harmless on masked values.
# fmt: off
ALLOWED_FUNCS = _classes(
    # aggregates
    "AnyValue", "ApproxDistinct", "ApproxQuantile", "ArgMax", "ArgMin", "ArrayAgg", "Avg",
    "BitwiseAndAgg", "BitwiseOrAgg", "BitwiseXorAgg", "Corr", "Count", "CountIf", "CovarPop",
    "CovarSamp", "First", "GroupConcat", "Grouping", "JSONArrayAgg", "JSONObjectAgg",
    "JSONBObjectAgg", "Kurtosis", "Last", "List", "LogicalAnd", "LogicalOr", "Max", "Median",
    "Min", "Mode", "PercentileCont", "PercentileDisc", "Quantile", "RegrAvgx", "RegrAvgy",
    "RegrCount", "RegrIntercept", "RegrR2", "RegrSlope", "RegrSxx", "RegrSxy", "RegrSyy",
    "Skewness", "Stddev", "StddevPop", "StddevSamp", "Sum", "Variance", "VariancePop",
    # window functions
    "CumeDist", "DenseRank", "FirstValue", "Lag", "LastValue", "Lead", "NthValue", "Ntile",
    "PercentRank", "Rank", "RowNumber",
    # math
    "Abs", "Acos", "Asin", "Atan", "Atan2", "Cbrt", "Ceil", "Cos", "Cot", "Degrees", "Exp",
    "Factorial", "Floor", "Greatest", "Least", "Ln", "Log", "Pi", "Pow", "Radians", "Rand",
    "Round", "Sign", "Sin", "Sqrt", "Tan", "Trunc", "IsNan", "IsInf",
    # strings
    "Ascii", "BitLength", "ByteLength", "Chr", "Concat", "ConcatWs", "Contains", "EndsWith",
    "StartsWith", "Initcap", "Left", "Length", "Levenshtein", "Lower", "MD5", "MD5Digest", "Pad",
    "Repeat", "Replace", "Reverse", "Right", "SHA", "SHA2", "SHA2Digest", "Split", "SplitPart",
    "StrPosition", "Substring", "Translate", "Trim", "Upper", "Unicode", "RegexpExtract",
    "RegexpExtractAll", "RegexpLike", "RegexpILike", "RegexpReplace", "RegexpSplit", "RegexpCount",
    "StringToArray", "Format", "Hex", "Space", "Overlay", "ToBase64", "FromBase64", "Encode",
    "Decode", "ToChar", "NumberToStr",
    # conditionals
    "Coalesce", "Nullif", "Nvl2",
    # dates and times
    "CurrentDate", "CurrentTime", "CurrentTimestamp", "Localtime", "Localtimestamp", "Date",
    "DateAdd", "DateSub", "DateDiff", "DateTrunc", "TimestampTrunc", "DatetimeTrunc", "TimeTrunc",
    "Extract", "Day", "DayOfMonth", "DayOfWeek", "DayOfWeekIso", "DayOfYear", "Dayname", "Month",
    "Monthname", "Quarter", "Week", "WeekOfYear", "Year", "Hour", "Minute", "Second", "StrToDate",
    "StrToTime", "TimeToStr", "TimeStrToTime", "TsOrDsToDate", "TsOrDsAdd", "TsOrDsDiff",
    "UnixToTime", "TimeToUnix", "DateFromParts", "TimestampFromParts", "MakeInterval", "LastDay",
    "AddMonths", "TimestampAdd", "TimestampDiff", "TimestampSub", "DateStrToDate", "DateToDateStr",
    "TimeStrToDate", "TimeToTimeStr", "TsOrDsToTimestamp",
    # casts (their target type is checked separately)
    "Cast", "TryCast",
    # JSON
    "JSONExtract", "JSONExtractScalar", "JSONBExtract", "JSONBExtractScalar", "JSONObject",
    "JSONArray", "ParseJSON", "JSONFormat", "JSONType", "JSONBContains", "JSONExists",
    "JSONKeyValue",
    # lists and structs
    "Array", "ArraySize", "ArrayContains", "ArrayContainsAll", "ArrayOverlaps", "ArrayToString",
    "ArraySlice", "ArrayConcat", "ArrayAppend", "ArrayPrepend", "ArrayDistinct", "ArraySort",
    "ArrayFilter", "ArrayAll", "ArrayAny", "ArrayPosition", "ArrayReverse", "ArrayMax", "ArrayMin",
    "ArraySum", "Struct", "StructExtract", "Transform", "Explode", "Unnest",
    # misc
    "Typeof", "Uuid", "Columns",
)
# fmt: on

# Functions sqlglot does not model (exp.Anonymous), by lower-case name. Pure and harmless only.
# fmt: off
ALLOWED_ANONYMOUS = frozenset({
    "age", "any_value", "approx_count_distinct", "approx_quantile", "arbitrary", "arg_max",
    "arg_min", "argmax", "argmin", "array_agg", "array_cat", "array_dims", "array_filter",
    "array_has", "array_has_all", "array_has_any", "array_length", "array_position",
    "array_reduce", "array_remove", "array_replace", "array_slice", "array_to_json",
    "array_transform", "ascii", "bar", "base64", "bit_and", "bit_count", "bit_or", "bit_xor",
    "bool_and", "bool_or", "bool_xor", "btrim", "cardinality", "cbrt", "ceiling", "century",
    "char_length", "character_length", "chr", "clock_timestamp", "coalesce", "concat",
    "concat_lower", "concat_ws", "contains", "corr", "count_if", "countif", "covar_pop",
    "covar_samp", "current_localtime", "current_localtimestamp", "damerau_levenshtein", "date_add",
    "date_bin", "date_diff", "date_part", "date_sub", "date_trunc", "datediff", "datepart",
    "datetrunc", "dayname", "dayofmonth", "dayofweek", "dayofyear", "decade", "degrees", "div",
    "editdist3", "element_at", "ends_with", "entropy", "epoch", "epoch_ms", "epoch_ns", "epoch_us",
    "era", "even", "every", "exp", "extract", "factorial", "favg", "first", "flatten", "format",
    "format_bytes", "formatreadablesize", "from_base", "from_base64", "from_binary", "from_hex",
    "fsum", "gamma", "gcd", "gen_random_uuid", "greatest", "hamming", "hash", "histogram",
    "ifnull", "ilike_escape", "initcap", "instr", "isfinite", "isodow", "isoyear", "jaccard",
    "jaro_similarity", "jaro_winkler_similarity", "json", "json_agg", "json_array",
    "json_array_length", "json_build_array", "json_build_object", "json_extract",
    "json_extract_path", "json_extract_path_text", "json_extract_string", "json_keys",
    "json_merge_patch", "json_object", "json_object_agg", "json_quote", "json_strip_nulls",
    "json_structure", "json_type", "json_typeof", "json_valid", "jsonb_agg", "jsonb_array_length",
    "jsonb_build_array", "jsonb_build_object", "jsonb_extract_path", "jsonb_extract_path_text",
    "jsonb_object_agg", "jsonb_pretty", "jsonb_strip_nulls", "jsonb_typeof", "justify_days",
    "justify_hours", "justify_interval", "kahan_sum", "kurtosis", "last", "last_day", "lcase",
    "lcm", "least", "left", "length", "levenshtein", "lgamma", "like_escape", "list_aggregate",
    "list_any_value", "list_append", "list_avg", "list_concat", "list_contains", "list_count",
    "list_distinct", "list_extract", "list_filter", "list_has", "list_max", "list_min",
    "list_position", "list_prepend", "list_reduce", "list_reverse", "list_slice", "list_sort",
    "list_sum", "list_transform", "list_unique", "list_value", "listagg", "ln", "localtime",
    "localtimestamp", "log10", "log2", "lower", "lpad", "ltrim", "make_date", "make_interval",
    "make_time", "make_timestamp", "map", "map_extract", "map_keys", "map_values", "max_by",
    "md5_number", "median", "microsecond", "millennium", "millisecond", "min_by", "min_scale",
    "mismatches", "mod", "mode", "monthname", "nanosecond", "nextafter", "nfc_normalize", "now",
    "nth_value", "ntile", "nullif", "num_nonnulls", "num_nulls", "octet_length", "ord",
    "percentile_cont", "percentile_disc", "pg_typeof", "pi", "position", "power", "prefix",
    "printf", "product", "quantile", "quantile_cont", "quantile_disc", "radians", "random",
    "regexp_count", "regexp_extract", "regexp_full_match", "regexp_instr", "regexp_like",
    "regexp_matches", "regexp_replace", "regexp_split_to_array", "regexp_substr", "regr_avgx",
    "regr_avgy", "regr_count", "regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy",
    "regr_syy", "repeat", "replace", "reservoir_quantile", "reverse", "right", "row",
    "row_to_json", "rpad", "rtrim", "scale", "sha1", "sha256", "sign", "skewness", "split_part",
    "starts_with", "statement_timestamp", "stddev", "stddev_pop", "stddev_samp", "str_split",
    "strftime", "string_agg", "string_split", "strip_accents", "strpos", "strptime",
    "struct_extract", "struct_insert", "struct_pack", "substr", "substring", "suffix", "sumkahan",
    "time_bucket", "timezone", "timezone_hour", "timezone_minute", "to_base", "to_base64",
    "to_binary", "to_char", "to_date", "to_days", "to_hex", "to_hours", "to_json", "to_jsonb",
    "to_microseconds", "to_milliseconds", "to_minutes", "to_months", "to_number", "to_seconds",
    "to_timestamp", "to_weeks", "to_years", "today", "transaction_timestamp", "translate",
    "trim_scale", "trunc", "try_strptime", "typeof", "ucase", "unhex", "unicode", "union_extract",
    "union_tag", "union_value", "upper", "url_decode", "url_encode", "uuid", "var_pop", "var_samp",
    "variance", "weekday", "weekofyear", "width_bucket", "yearweek",
})
# fmt: on

# Cast targets: plain scalar types and containers of them. No OIDs/reg* types, no user types.
_T = exp.DataType.Type
ALLOWED_TYPES = frozenset(
    t
    for t in (
        getattr(_T, name, None)
        for name in (
            "TEXT VARCHAR CHAR NCHAR NVARCHAR NAME BPCHAR STRING "
            "TINYINT SMALLINT INT BIGINT HUGEINT UTINYINT USMALLINT UINT UBIGINT UHUGEINT "
            "INT128 UINT128 "
            "DECIMAL BIGDECIMAL DOUBLE FLOAT REAL MONEY "
            "BOOLEAN DATE TIME TIMETZ TIMESTAMP TIMESTAMPTZ TIMESTAMPLTZ TIMESTAMPNTZ TIMESTAMP_S "
            "TIMESTAMP_MS TIMESTAMP_NS DATETIME INTERVAL JSON JSONB UUID BINARY VARBINARY "
            "BLOB BIT VARBIT ARRAY LIST STRUCT MAP NULL UNKNOWN"
        ).split()
    )
    if t is not None
)

# Unquoted column names PostgreSQL evaluates as functions (SQL-standard niladic functions).
NILADIC_FUNCTION_NAMES = frozenset(
    {
        "current_user",
        "session_user",
        "user",
        "current_role",
        "current_catalog",
        "current_schema",
        "system_user",
    }
)
