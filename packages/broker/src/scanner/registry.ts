import type { DetectorFamily } from './detector.ts';
import { anthropic } from './detectors/anthropic.ts';
import { aws } from './detectors/aws.ts';
import { github } from './detectors/github.ts';
import { gitlab } from './detectors/gitlab.ts';
import { google } from './detectors/google.ts';
import { jwt } from './detectors/jwt.ts';
import { openai } from './detectors/openai.ts';
import { slack } from './detectors/slack.ts';

/** The detector catalogue, listed explicitly (no directory scanning). Together they cover every CredentialKind. */
export const DETECTOR_FAMILIES: readonly DetectorFamily[] = [github, gitlab, slack, aws, google, openai, anthropic, jwt];
